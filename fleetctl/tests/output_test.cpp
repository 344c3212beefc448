#include <catch2/catch.hpp>

#include "fleetctl/age.hpp"
#include "fleetctl/cluster_view.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/table.hpp"
#include "fleetctl/tests/test_support.hpp"
#include "fleetctl/token_view.hpp"

namespace fleet::ctl {
using namespace std::chrono_literals;
using testing::test_now;

namespace {

nlohmann::json cluster(const std::string& name, const std::string& created) {
  return {{"name", name},
          {"provider", "aks"},
          {"region", "westeurope"},
          {"labels", {{"tier", "gold"}, {"env", "prod"}}},
          {"taints",
           {{{"key", "dedicated"}, {"value", "ml"}, {"effect", "NoSchedule"}},
            {{"key", "gpu"}, {"value", ""}, {"effect", "NoExecute"}}}},
          {"updateGroup", "canary"},
          {"state", "ready"},
          {"kubernetesVersion", "1.29.2"},
          {"nodeImageVersion", ""},
          {"lastHeartbeat", nullptr},
          {"resourceVersion", "42"},
          {"createdAt", created}};
}

}  // namespace

TEST_CASE("AGE is a short human duration", "[fleetctl]") {
  CHECK(format_age(0s) == "0s");
  CHECK(format_age(5s) == "5s");
  CHECK(format_age(59s) == "59s");
  CHECK(format_age(60s) == "1m");
  CHECK(format_age(3min + 59s) == "3m");
  CHECK(format_age(2h + 5min) == "2h");
  CHECK(format_age(23h + 59min) == "23h");
  CHECK(format_age(24h * 4 + 3h) == "4d");
  CHECK(format_age(24h * 800) == "2y");
  CHECK(format_age(-10s) == "0s");  // clock skew
  CHECK(age_of("2026-11-23T11:59:55.000Z", test_now()) == "5s");
  CHECK(age_of("2026-11-19T12:00:00.000Z", test_now()) == "4d");
  CHECK(age_of("yesterday", test_now()) == "<unknown>");
  CHECK(age_of("", test_now()) == "<unknown>");
}

TEST_CASE("tables: upper-case headers, aligned columns, three spaces, no trailing blanks", "[fleetctl]") {
  const std::string table = render_table({"NAME", "STATE", "AGE"}, {{"a", "ready", "5s"}, {"longer-name", "x", ""}});
  CHECK(table ==
        "NAME          STATE   AGE\n"
        "a             ready   5s\n"
        "longer-name   x\n");
  // Control characters from the server cannot break the one-line-per-row layout; UTF-8 counts as one column.
  CHECK(render_table({"A", "B"}, {{"x\ny", "1"}, {"é", "2"}}) ==
        "A     B\n"
        "x?y   1\n"
        "é     2\n");
}

TEST_CASE("get clusters table and -o wide", "[fleetctl]") {
  std::vector<nlohmann::json> items = {
      cluster("aks-westeurope-1", "2026-11-23T11:57:00.000Z"),
      {{"name", "b"}, {"provider", "arc"}, {"state", "registering"}, {"createdAt", "2026-11-21T10:00:00.000Z"}}};
  CHECK(clusters_table(items, false, test_now()) ==
        "NAME               PROVIDER   REGION       STATE         VERSION   AGE\n"
        "aks-westeurope-1   aks        westeurope   ready         1.29.2    3m\n"
        "b                  arc        <none>       registering   <none>    2d\n");
  CHECK(clusters_table(items, true, test_now()) ==
        "NAME               PROVIDER   REGION       STATE         VERSION   AGE   UPDATE-GROUP   NODE-IMAGE   "
        "LABELS               TAINTS\n"
        "aks-westeurope-1   aks        westeurope   ready         1.29.2    3m    canary         <none>       "
        "env=prod,tier=gold   dedicated=ml:NoSchedule,gpu:NoExecute\n"
        "b                  arc        <none>       registering   <none>    2d    <none>         <none>       "
        "<none>               <none>\n");
}

TEST_CASE("describe cluster is a kubectl-like key/value view", "[fleetctl]") {
  auto c = cluster("aks-westeurope-1", "2026-11-21T12:00:00.000Z");
  c["lastHeartbeat"] = "2026-11-23T11:59:30.000Z";
  CHECK(describe_cluster(c, test_now()) ==
        "Name:              aks-westeurope-1\n"
        "Provider:          aks\n"
        "Region:            westeurope\n"
        "State:             ready\n"
        "Update Group:      canary\n"
        "Versions:\n"
        "  Kubernetes:      1.29.2\n"
        "  Node Image:      <none>\n"
        "  Agent:           <none>\n"
        "Labels:            env=prod\n"
        "                   tier=gold\n"
        "Taints:            dedicated=ml:NoSchedule\n"
        "                   gpu:NoExecute\n"
        "Last Heartbeat:    2026-11-23T11:59:30.000Z (30s ago)\n"
        "Resource Version:  42\n"
        "Created:           2026-11-21T12:00:00.000Z (2d ago)\n");
  // Whatever the server sends, describe does not throw.
  CHECK_NOTHROW(describe_cluster(nlohmann::json::array(), test_now()));
  CHECK_NOTHROW(describe_cluster({{"labels", 5}, {"taints", "x"}, {"name", 3}}, test_now()));
}

TEST_CASE("output json and yaml: a list is an items object, one object is itself", "[fleetctl]") {
  const auto list = as_list({{{"name", "a"}}, {{"name", "b"}}});
  CHECK(nlohmann::json::parse(render_document(list, OutputFormat::kJson)) ==
        nlohmann::json{{"items", {{{"name", "a"}}, {{"name", "b"}}}}});
  CHECK(render_document(nlohmann::json{{"name", "a"}}, OutputFormat::kJson) == "{\n  \"name\": \"a\"\n}\n");
  const std::string yaml = render_document(nlohmann::json{{"name", "a"}, {"count", 1}}, OutputFormat::kYaml);
  CHECK_THAT(yaml, Catch::Contains("name: a"));
  CHECK_THAT(yaml, Catch::Contains("count: 1"));
  CHECK(yaml.back() == '\n');
  CHECK(parse_output_format("wide") == OutputFormat::kWide);
  CHECK(parse_output_format("") == OutputFormat::kTable);
  CHECK_FALSE(parse_output_format("xml").has_value());
}

TEST_CASE("get tokens table", "[fleetctl]") {
  CHECK(
      tokens_table({{{"id", "t1"}, {"role", "admin"}, {"description", "ci"}, {"createdAt", "2026-11-23T10:00:00Z"}},
                    {{"id", "t22"},
                     {"role", "viewer"},
                     {"createdAt", "2026-11-23T11:59:59.000Z"},
                     {"revokedAt", "2026-11-23T11:59:59.500Z"}},
                    {{"id", "t3"}, {"role", "viewer"}, {"revokedAt", nullptr}, {"expiresAt", "2026-11-23T11:00:00Z"}}},
                   test_now()) ==
      "ID    ROLE     STATUS    DESCRIPTION   AGE\n"
      "t1    admin    Active    ci            2h\n"
      "t22   viewer   Revoked   <none>        1s\n"
      "t3    viewer   Expired   <none>        <unknown>\n");
}

}  // namespace fleet::ctl
