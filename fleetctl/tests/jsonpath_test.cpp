// The JSONPath subset of -o jsonpath=… and --sort-by, as pure functions.
#include <catch2/catch.hpp>

#include "fleetctl/jsonpath.hpp"

namespace fleet::ctl {
namespace {

const nlohmann::json kList = nlohmann::json::parse(R"({
  "items": [
    {"name": "east-1", "provider": "aks", "labels": {"env": "prod", "fleet.io/tier": "gold"}, "nodes": 3},
    {"name": "west-2", "provider": "arc", "labels": {"env": "dev"}, "nodes": 12},
    {"name": "north-3", "provider": "aks", "labels": {}, "nodes": 0.5}
  ],
  "total": 3
})");

std::string render(const std::string& text, const nlohmann::json& doc = kList) {
  auto parsed = JsonPathTemplate::parse(text);
  REQUIRE(parsed);
  return parsed->render(doc);
}

std::string error_of(const std::string& text) {
  auto parsed = JsonPathTemplate::parse(text);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code == ErrorCode::kInvalid);
  return parsed.error().message;
}

std::vector<std::string> names(const std::vector<nlohmann::json>& items) {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const auto& i : items) out.push_back(i.value("name", "?"));
  return out;
}

}  // namespace

TEST_CASE("jsonpath: fields, indexes, wildcards and slices", "[fleetctl][jsonpath]") {
  CHECK(render("{.total}") == "3");
  CHECK(render("{.items[0].name}") == "east-1");
  CHECK(render("{.items[-1].name}") == "north-3");
  CHECK(render("{.items[*].name}") == "east-1 west-2 north-3");
  CHECK(render("{.items[0:2].name}") == "east-1 west-2");
  CHECK(render("{.items[1:].nodes}") == "12 0.5");
  CHECK(render("{.items[0].labels['fleet.io/tier']}") == "gold");
  CHECK(render("{.items[0].labels.*}") == "prod gold");
  CHECK(render("{..env}") == "prod dev");
  CHECK(render("{$.items[1].labels}") == R"({"env":"dev"})");
  CHECK(render("{.items[7].name}{.nope}{.items[0].name.deeper}") == "");  // missing keys print nothing
  CHECK(render("{@.total}") == "3");
}

TEST_CASE("jsonpath: literal text, escapes, quoted strings and range", "[fleetctl][jsonpath]") {
  CHECK(render("total={.total}\\n") == "total=3\n");
  CHECK(render("{.items[0].name}{\"\\t\"}{.items[0].provider}{\"\\n\"}") == "east-1\taks\n");
  CHECK(render(R"({range .items[*]}{.name}{"\t"}{.nodes}{"\n"}{end})") == "east-1\t3\nwest-2\t12\nnorth-3\t0.5\n");
  CHECK(render("{range .items[*]}[{.name}:{range .labels.*}{@},{end}]{end}") ==
        "[east-1:prod,gold,][west-2:dev,][north-3:]");
  CHECK(render("{range .items[*]}{$.total}{end}") == "333");  // $ is the whole document inside a range too
  CHECK(render("{'}'}") == "}");
}

TEST_CASE("jsonpath: kubectl's metadata/spec/status read fleetd's flat objects", "[fleetctl][jsonpath]") {
  CHECK(render("{.items[*].metadata.name}") == "east-1 west-2 north-3");
  CHECK(render("{.items[0].spec.provider}/{.items[0].status.nodes}") == "aks/3");
  const nlohmann::json nested = {{"metadata", {{"name", "real"}}}};
  CHECK(render("{.metadata.name}", nested) == "real");  // a real metadata member wins
}

TEST_CASE("jsonpath: a bad template is a usage error saying why", "[fleetctl][jsonpath]") {
  CHECK(error_of("{.items[0]") == "invalid jsonpath \"{.items[0]\": unclosed { at position 1");
  CHECK(error_of("{range .items[*]}{.name}") == "invalid jsonpath \"{range .items[*]}{.name}\": {range} without {end}");
  CHECK(error_of("{end}") == "invalid jsonpath \"{end}\": {end} without {range}");
  CHECK(error_of("{}") == "invalid jsonpath \"{}\": empty {}");
  CHECK(error_of("{.items[x]}") == "invalid jsonpath \".items[x]\": expected [N], [*], [A:B] or ['key'], got [x]");
  CHECK(error_of("{.items[?(@.a==1)]}") ==
        "invalid jsonpath \".items[?(@.a==1)]\": filters [?(...)] are not supported");
  CHECK(error_of("{name}") == "invalid jsonpath \"name\": unexpected 'n' at position 1");
}

TEST_CASE("jsonpath: select and sort-by", "[fleetctl][jsonpath]") {
  auto selected = jsonpath_select("{.items[*].provider}", kList);
  REQUIRE(selected);
  CHECK(*selected == std::vector<nlohmann::json>{"aks", "arc", "aks"});
  CHECK(jsonpath_select("metadata.name", kList["items"][1])->front() == "west-2");  // no leading dot, as kubectl

  std::vector<nlohmann::json> items = kList["items"];
  REQUIRE(sort_by_jsonpath(items, ".nodes"));
  CHECK(names(items) == std::vector<std::string>{"north-3", "east-1", "west-2"});  // numerically: 0.5 < 3 < 12
  REQUIRE(sort_by_jsonpath(items, "{.metadata.name}"));
  CHECK(names(items) == std::vector<std::string>{"east-1", "north-3", "west-2"});
  REQUIRE(sort_by_jsonpath(items, ".labels.env"));  // north-3 has none: last
  CHECK(names(items) == std::vector<std::string>{"west-2", "east-1", "north-3"});
  auto bad = sort_by_jsonpath(items, ".items[");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "invalid jsonpath \".items[\": unclosed [");
}

}  // namespace fleet::ctl
