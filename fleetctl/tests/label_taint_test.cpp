#include <catch2/catch.hpp>

#include "fleetctl/exit_codes.hpp"
#include "fleetctl/label_args.hpp"
#include "fleetctl/taint_args.hpp"
#include "fleetctl/token_commands.hpp"

namespace fleet::ctl {

TEST_CASE("label args: k=v sets, k- removes, bad syntax is a usage error", "[fleetctl]") {
  auto ok = parse_label_args({"env=prod", "example.com/team=ml", "old-", "empty="});
  REQUIRE(ok.ok());
  CHECK(ok->set == std::map<std::string, std::string>{{"env", "prod"}, {"example.com/team", "ml"}, {"empty", ""}});
  CHECK(ok->remove == std::vector<std::string>{"old"});

  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{{},
                                                                            {"env"},
                                                                            {"-"},
                                                                            {"bad key=1"},
                                                                            {"env=bad value"},
                                                                            {"env=" + std::string(64, 'a')},
                                                                            {"env=a", "env-"},
                                                                            {"env-", "env=a"},
                                                                            {"env=a", "env=b"},
                                                                            {"/x=1"},
                                                                            {"=v"}}) {
    auto result = parse_label_args(bad);
    INFO((bad.empty() ? std::string("<none>") : bad.front()));
    REQUIRE_FALSE(result.ok());
    CHECK(exit_code_for(result.error()) == ExitCode::kUsage);
  }
  CHECK(parse_label_args({"env=a", "env=a"}).ok());  // the same value twice is harmless
}

TEST_CASE("label patch: merge patch of labels, --overwrite rules, removal of a missing key warns", "[fleetctl]") {
  const nlohmann::json current = {{"env", "dev"}, {"tier", "gold"}};
  auto changes = parse_label_args({"team=ml", "tier-", "gone-"});
  REQUIRE(changes.ok());
  auto patch = make_label_patch(*changes, current, false);
  REQUIRE(patch.ok());
  CHECK(patch->body == nlohmann::json::parse(R"({"labels": {"team": "ml", "tier": null}})"));
  CHECK(patch->warnings == std::vector<std::string>{"label \"gone\" not found."});

  auto change_env = parse_label_args({"env=prod"});
  auto refused = make_label_patch(*change_env, current, false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == "'env' already has a value (dev), and --overwrite is false");
  CHECK(exit_code_for(refused.error()) == ExitCode::kClientError);
  auto overwritten = make_label_patch(*change_env, current, true);
  REQUIRE(overwritten.ok());
  CHECK(overwritten->body == nlohmann::json::parse(R"({"labels": {"env": "prod"}})"));

  auto same = make_label_patch(*parse_label_args({"env=dev"}), current, false);
  REQUIRE(same.ok());
  CHECK_FALSE(same->changes());
  auto on_null = make_label_patch(*parse_label_args({"a=b"}), nullptr, false);
  REQUIRE(on_null.ok());
  CHECK(on_null->body == nlohmann::json::parse(R"({"labels": {"a": "b"}})"));
}

TEST_CASE("taint args: kubectl syntax, validated before any request", "[fleetctl]") {
  auto ok = parse_taint_args({"dedicated=ml:NoSchedule", "gpu:NoExecute", "old:PreferNoSchedule-", "any-"});
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 4);
  CHECK((*ok)[0].key == "dedicated");
  CHECK((*ok)[0].value == "ml");
  CHECK((*ok)[0].effect == "NoSchedule");
  CHECK((*ok)[1].value.empty());
  CHECK((*ok)[2].remove);
  CHECK((*ok)[2].effect == "PreferNoSchedule");
  CHECK((*ok)[3].remove);
  CHECK((*ok)[3].effect.empty());

  for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{{},
                                                                            {"k=v"},
                                                                            {"k=v:Sometimes"},
                                                                            {"k"},
                                                                            {":NoSchedule"},
                                                                            {"bad key:NoSchedule"},
                                                                            {"k=bad v:NoSchedule"},
                                                                            {"k:NoSchedule", "k:NoSchedule-"},
                                                                            {"k:NoSchedule", "k-"},
                                                                            {"k=a:NoSchedule", "k=b:NoSchedule"},
                                                                            {"-"}}) {
    auto result = parse_taint_args(bad);
    INFO((bad.empty() ? std::string("<none>") : bad.front()));
    REQUIRE_FALSE(result.ok());
    CHECK(exit_code_for(result.error()) == ExitCode::kUsage);
  }
}

TEST_CASE("taint changes produce the whole new taints array", "[fleetctl]") {
  const auto current = nlohmann::json::parse(R"([
    {"key": "dedicated", "value": "ml", "effect": "NoSchedule"},
    {"key": "dedicated", "value": "ml", "effect": "NoExecute"},
    {"key": "gpu", "value": "", "effect": "NoSchedule"}])");

  auto add = apply_taint_changes(*parse_taint_args({"spot=true:PreferNoSchedule", "gpu:NoSchedule-"}), current, false);
  REQUIRE(add.ok());
  CHECK(add->taints == nlohmann::json::parse(R"([
    {"key": "dedicated", "value": "ml", "effect": "NoSchedule"},
    {"key": "dedicated", "value": "ml", "effect": "NoExecute"},
    {"key": "spot", "value": "true", "effect": "PreferNoSchedule"}])"));

  auto remove_key = apply_taint_changes(*parse_taint_args({"dedicated-"}), current, false);
  REQUIRE(remove_key.ok());
  CHECK(remove_key->taints == nlohmann::json::parse(R"([{"key": "gpu", "value": "", "effect": "NoSchedule"}])"));

  auto exists = apply_taint_changes(*parse_taint_args({"dedicated=cpu:NoSchedule"}), current, false);
  REQUIRE_FALSE(exists.ok());
  CHECK(exit_code_for(exists.error()) == ExitCode::kClientError);
  auto overwrite = apply_taint_changes(*parse_taint_args({"dedicated=cpu:NoSchedule"}), current, true);
  REQUIRE(overwrite.ok());
  CHECK(overwrite->taints[0] ==
        nlohmann::json::parse(R"({"key": "dedicated", "value": "cpu", "effect": "NoSchedule"})"));
  CHECK(overwrite->taints.size() == 3);

  auto missing = apply_taint_changes(*parse_taint_args({"nope:NoSchedule-"}), current, false);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "taint \"nope:NoSchedule\" not found");

  auto from_null = apply_taint_changes(*parse_taint_args({"a:NoSchedule"}), nullptr, false);
  REQUIRE(from_null.ok());
  CHECK(from_null->taints == nlohmann::json::parse(R"([{"key": "a", "value": "", "effect": "NoSchedule"}])"));
}

}  // namespace fleet::ctl

TEST_CASE("bootstrap token --ttl durations", "[fleetctl]") {
  using fleet::ctl::parse_ttl_seconds;
  REQUIRE(parse_ttl_seconds("90s").value() == 90);
  REQUIRE(parse_ttl_seconds("15m").value() == 900);
  REQUIRE(parse_ttl_seconds("1h").value() == 3600);
  REQUIRE(parse_ttl_seconds("7d").value() == 7 * 86400);
  REQUIRE(parse_ttl_seconds("600").value() == 600);
  for (const char* bad : {"", "h", "0s", "-5m", "5x", "1.5h", "1h30m", "99999999999999999d", "400d"}) {
    INFO(bad);
    auto r = parse_ttl_seconds(bad);
    REQUIRE_FALSE(r);
    REQUIRE(r.error().message.find("--ttl") != std::string::npos);
  }
}
