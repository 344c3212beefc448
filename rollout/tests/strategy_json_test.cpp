#include "rollout/strategy_json.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "common/time_format.hpp"
#include "rollout/step.hpp"
#include "rollout/strategy.hpp"

using namespace fleet;
using namespace fleet::rollout;
using nlohmann::json;

namespace {

// The POST /v1/rollouts body of DESIGN §6, verbatim.
constexpr const char* kDesignExample = R"({
  "name": "k8s-1-32",
  "target": {"type": "Full", "kubernetesVersion": "1.32.7", "nodeImageSelection": "Latest"},
  "strategy": {"stages": [
    {"name": "canary", "updateGroups": ["canary"], "maxConcurrency": "1", "afterStageWait": "0s",
     "afterGates": [{"type": "Approval", "name": "sre-signoff"}]},
    {"name": "waves", "updateGroups": ["wave1", "wave2"], "maxConcurrency": "50%",
     "failurePolicy": {"maxFailures": "10%", "onFailure": "Pause"}}
  ]}
})";

template <class T>
void check_error(const Result<T>& r, const std::string& field, const std::string& type = "invalid-field",
                 const std::string& contains = "") {
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalid);
  CHECK(r.error().field == field);
  CHECK(r.error().type == type);
  if (!contains.empty()) CHECK_THAT(r.error().message, Catch::Contains(contains));
}

Result<Strategy> strategy(const std::string& text) {
  return strategy_from_json(json::parse(text), "strategy");
}

Result<Strategy> one_stage(const std::string& stage_members) {
  return strategy(R"({"stages": [{"name": "s", )" + stage_members + "}]}");
}

json stages_json(int n) {
  json stages = json::array();
  for (int i = 0; i < n; ++i) stages.push_back({{"name", "s" + std::to_string(i)}, {"labelSelector", "x=y"}});
  return stages;
}

void check_round_trip(const Strategy& st) {
  auto back = strategy_from_json(to_json(st), "strategy");
  INFO(to_json(st).dump());
  REQUIRE(back);
  CHECK(*back == st);
  CHECK(to_json(*back) == to_json(st));
}

}  // namespace

TEST_CASE("strategy json: durations in every form", "[rollout][strategy]") {
  auto read = [](const json& j) {
    auto d = duration_from_json(j, "afterStageWait");
    INFO(j.dump());
    REQUIRE(d);
    return d->count();
  };
  CHECK(read("0s") == 0);
  CHECK(read("0") == 0);
  CHECK(read("90s") == 90);
  CHECK(read("15m") == 900);
  CHECK(read("1h30m") == 5400);
  CHECK(read("2h") == 7200);
  CHECK(read("1h0m30s") == 3630);
  CHECK(read("1h30s") == 3630);
  CHECK(read("90m") == 5400);
  CHECK(read("0h0m0s") == 0);
  CHECK(read("720h") == 30 * 24 * 3600);
  CHECK(read(json(0)) == 0);
  CHECK(read(json(600)) == 600);
  CHECK(read(json(2592000)) == 2592000);
  CHECK(read(json::parse("600")) == 600);  // parsed: unsigned
}

TEST_CASE("strategy json: refused durations", "[rollout][strategy]") {
  for (const json& bad : {json(""),
                          json("s"),
                          json("90"),
                          json("1.5h"),
                          json("-1s"),
                          json("1d"),
                          json("1h1h"),
                          json("30m1h"),
                          json("1s1m"),
                          json("1m30"),
                          json("1 h"),
                          json(" 1s"),
                          json("1ms"),
                          json("+1s"),
                          json("1H"),
                          json(-1),
                          json(1.5),
                          json(true),
                          json(nullptr),
                          json::array(),
                          json("721h"),
                          json("2592001s"),
                          json(2592001),
                          json("99999999999999999999s"),
                          json(18446744073709551615ULL)}) {
    INFO(bad.dump());
    auto d = duration_from_json(bad, "strategy.stages[0].afterStageWait");
    check_error(d, "strategy.stages[0].afterStageWait");
  }
  auto too_long = duration_from_json(json("721h"), "x");
  REQUIRE_FALSE(too_long);
  CHECK_THAT(too_long.error().message, Catch::Contains("at most 30 days"));
  auto order = duration_from_json(json("30m1h"), "x");
  REQUIRE_FALSE(order);
  CHECK_THAT(order.error().message, Catch::Contains("in that order"));
}

TEST_CASE("strategy json: format_duration writes the shortest Go form", "[rollout][strategy]") {
  CHECK(format_duration(Seconds{0}) == "0s");
  CHECK(format_duration(Seconds{59}) == "59s");
  CHECK(format_duration(Seconds{90}) == "1m30s");
  CHECK(format_duration(Seconds{900}) == "15m");
  CHECK(format_duration(Seconds{5400}) == "1h30m");
  CHECK(format_duration(Seconds{7200}) == "2h");
  CHECK(format_duration(Seconds{3630}) == "1h30s");
  CHECK(format_duration(Seconds{3661}) == "1h1m1s");
  CHECK(format_duration(Seconds{2592000}) == "720h");
  for (long s : {0L, 1L, 59L, 60L, 61L, 3599L, 3600L, 3601L, 86399L, 86400L, 2592000L}) {
    auto back = duration_from_json(json(format_duration(Seconds{s})), "x");
    REQUIRE(back);
    CHECK(back->count() == s);
  }
}

TEST_CASE("strategy json: every gate type", "[rollout][strategy]") {
  auto approval = gate_from_json(json::parse(R"({"type": "Approval", "name": "sre-signoff"})"), "g", "dflt");
  REQUIRE(approval);
  CHECK(approval->type == GateType::kApproval);
  CHECK(approval->name == "sre-signoff");

  auto wait = gate_from_json(json::parse(R"({"type": "Wait", "duration": "15m"})"), "g", "canary.after-1");
  REQUIRE(wait);
  CHECK(wait->type == GateType::kWait);
  CHECK(wait->name == "canary.after-1");
  CHECK(wait->duration == Seconds{900});

  auto scheduled =
      gate_from_json(json::parse(R"({"type": "ScheduledStart", "notBefore": "2026-03-01T22:00:00Z"})"), "g", "d");
  REQUIRE(scheduled);
  CHECK(scheduled->type == GateType::kScheduledStart);
  REQUIRE(scheduled->not_before);
  CHECK(format_rfc3339(*scheduled->not_before) == "2026-03-01T22:00:00.000Z");

  auto health = gate_from_json(json::parse(R"({"type": "HealthCheck", "name": "gpus-ok", "minAdmittedGpuRatio": 0.95,
                                               "soak": "10m", "timeout": "1h"})"),
                               "g", "d");
  REQUIRE(health);
  CHECK(health->type == GateType::kHealthCheck);
  CHECK(health->min_admitted_gpu_ratio == 0.95);
  CHECK(health->soak == Seconds{600});
  CHECK(health->timeout == Seconds{3600});

  auto defaults = gate_from_json(json::parse(R"({"type": "HealthCheck"})"), "g", "d");
  REQUIRE(defaults);
  CHECK(defaults->min_admitted_gpu_ratio == 1.0);
  CHECK(defaults->soak == Seconds{0});
  CHECK(defaults->timeout == Seconds{3600});
  auto edges = gate_from_json(json::parse(R"({"type": "HealthCheck", "minAdmittedGpuRatio": 0, "soak": 60,
                                              "timeout": 60})"),
                              "g", "d");
  REQUIRE(edges);
  CHECK(edges->min_admitted_gpu_ratio == 0.0);
  CHECK(edges->soak == edges->timeout);

  CHECK(to_string(GateType::kApproval) == "Approval");
  CHECK(to_string(GateType::kWait) == "Wait");
  CHECK(to_string(GateType::kScheduledStart) == "ScheduledStart");
  CHECK(to_string(GateType::kHealthCheck) == "HealthCheck");

  for (const auto& g : {*approval, *wait, *scheduled, *health, *defaults, *edges}) {
    auto back = gate_from_json(to_json(g), "g", "canary.after-1");
    REQUIRE(back);
    CHECK(*back == g);
  }
  // A generated name, written out, reads back in its own place only: elsewhere it is not a DNS label.
  check_error(gate_from_json(to_json(*wait), "g", "canary.after-2"), "g.name", "invalid-field", "DNS-1123");
  // Sub-millisecond parts of notBefore are dropped, so that what is written reads back equal.
  auto micro = gate_from_json(json::parse(R"({"type": "ScheduledStart", "notBefore": "2026-03-01T22:00:00.123456Z"})"),
                              "g", "d");
  REQUIRE(micro);
  auto micro_back = gate_from_json(to_json(*micro), "g", "d");
  REQUIRE(micro_back);
  CHECK(*micro_back == *micro);
}

TEST_CASE("strategy json: refused gates name the member", "[rollout][strategy]") {
  const std::string p = "strategy.stages[0].beforeGates[2]";
  auto read = [&](const char* text) { return gate_from_json(json::parse(text), p, "d"); };
  check_error(gate_from_json(json("Approval"), p, "d"), p, "invalid-field", "must be an object");
  check_error(read(R"({"name": "x"})"), p + ".type", "missing-field");
  check_error(read(R"({"type": "Manual"})"), p + ".type", "invalid-field", "Approval, Wait, ScheduledStart");
  check_error(read(R"({"type": "approval"})"), p + ".type");
  check_error(read(R"({"type": "Approval", "name": "Bad_Name"})"), p + ".name", "invalid-field", "DNS-1123");
  check_error(read(R"({"type": "Approval", "name": ""})"), p + ".name");
  check_error(read(R"({"type": "Approval", "name": 5})"), p + ".name");
  check_error(read(R"({"type": "Approval", "duration": "1m"})"), p + ".duration", "unknown-field");
  check_error(read(R"({"type": "Wait"})"), p + ".duration", "missing-field");
  check_error(read(R"({"type": "Wait", "duration": "1x"})"), p + ".duration");
  check_error(read(R"({"type": "Wait", "duration": "1m", "soak": "1m"})"), p + ".soak", "unknown-field");
  check_error(read(R"({"type": "ScheduledStart"})"), p + ".notBefore", "missing-field");
  check_error(read(R"({"type": "ScheduledStart", "notBefore": "tomorrow"})"), p + ".notBefore", "invalid-field",
              "RFC 3339");
  check_error(read(R"({"type": "ScheduledStart", "notBefore": "2026-03-01T22:00:00+02:00"})"), p + ".notBefore");
  check_error(read(R"({"type": "ScheduledStart", "notBefore": 1700000000})"), p + ".notBefore");
  check_error(read(R"({"type": "ScheduledStart", "notBefore": "2026-03-01T22:00:00Z", "duration": "1m"})"),
              p + ".duration", "unknown-field");
  check_error(read(R"({"type": "HealthCheck", "minAdmittedGpuRatio": 1.5})"), p + ".minAdmittedGpuRatio");
  check_error(read(R"({"type": "HealthCheck", "minAdmittedGpuRatio": -0.1})"), p + ".minAdmittedGpuRatio");
  check_error(read(R"({"type": "HealthCheck", "minAdmittedGpuRatio": "0.9"})"), p + ".minAdmittedGpuRatio");
  check_error(read(R"({"type": "HealthCheck", "timeout": "0s"})"), p + ".timeout", "invalid-field", "longer than 0s");
  check_error(read(R"({"type": "HealthCheck", "soak": "2h"})"), p + ".soak", "invalid-field",
              "must not be longer than the timeout (1h)");
  check_error(read(R"({"type": "HealthCheck", "soak": "10m", "timeout": "5m"})"), p + ".soak");
  check_error(read(R"({"type": "HealthCheck", "timeout": "31d"})"), p + ".timeout");
  check_error(read(R"({"type": "HealthCheck", "notBefore": "2026-03-01T22:00:00Z"})"), p + ".notBefore",
              "unknown-field");
}

TEST_CASE("strategy json: failure policy defaults and inheritance", "[rollout][strategy]") {
  auto st = strategy(R"({"stages": [
      {"name": "a", "updateGroups": ["g1", {"name": "g2", "failurePolicy": {"onFailure": "Continue"}}]},
      {"name": "b", "updateGroups": ["g3"], "failurePolicy": {"maxFailures": 2}},
      {"name": "c", "labelSelector": "env=prod"}
    ]})");
  REQUIRE(st);
  CHECK(st->failure_policy == FailurePolicy{});
  CHECK(st->failure_policy.max_failures == Budget{0, false});
  CHECK(st->failure_policy.on_failure == OnFailure::kPause);
  const StageSpec& a = st->stages[0];
  const StageSpec& b = st->stages[1];
  CHECK_FALSE(a.failure_policy);
  CHECK(&st->policy_of(a) == &st->failure_policy);
  CHECK(&st->policy_of(a, a.groups[0]) == &st->failure_policy);
  CHECK(st->policy_of(a, a.groups[1]).on_failure == OnFailure::kContinue);
  CHECK(st->policy_of(a, a.groups[1]).max_failures == Budget{0, false});  // maxFailures defaults to 0
  CHECK(st->policy_of(b).max_failures == Budget{2, false});
  CHECK(st->policy_of(b).on_failure == OnFailure::kPause);  // onFailure defaults to Pause
  CHECK(&st->policy_of(b, b.groups[0]) == &*b.failure_policy);

  auto run_level = strategy(R"({"stages": [{"name": "a", "updateGroups": ["g"]}],
                                "failurePolicy": {"maxFailures": "10%", "onFailure": "Continue"}})");
  REQUIRE(run_level);
  CHECK(run_level->policy_of(run_level->stages[0], run_level->stages[0].groups[0]) ==
        FailurePolicy{Budget{10, true}, OnFailure::kContinue});
  CHECK(to_string(OnFailure::kPause) == "Pause");
  CHECK(to_string(OnFailure::kContinue) == "Continue");
  check_round_trip(*st);
  check_round_trip(*run_level);

  check_error(strategy(R"({"stages": [{"name": "a", "updateGroups": ["g"]}], "failurePolicy": {"onFailure": "Stop"}})"),
              "strategy.failurePolicy.onFailure", "invalid-field", "Pause or Continue");
  check_error(strategy(R"({"stages": [{"name": "a", "updateGroups": ["g"], "failurePolicy": {"maxFailures": "x"}}]})"),
              "strategy.stages[0].failurePolicy.maxFailures");
  check_error(strategy(R"({"stages": [{"name": "a", "updateGroups": ["g"], "failurePolicy": {"max": 1}}]})"),
              "strategy.stages[0].failurePolicy.max", "unknown-field");
  check_error(strategy(R"({"stages": [{"name": "a", "updateGroups": ["g"], "failurePolicy": "Pause"}]})"),
              "strategy.stages[0].failurePolicy");
  check_error(strategy(R"({"stages": [{"name": "a", "updateGroups":
                            [{"name": "g", "failurePolicy": {"maxFailures": "120%"}}]}]})"),
              "strategy.stages[0].updateGroups[0].failurePolicy.maxFailures");
}

TEST_CASE("strategy json: stages by update groups and by selector", "[rollout][strategy]") {
  auto st = strategy(R"({"stages": [
      {"name": "canary", "updateGroups": ["canary"], "maxConcurrency": 1, "afterStageWait": "1h30m",
       "beforeGates": [{"type": "ScheduledStart", "notBefore": "2026-03-01T22:00:00Z"}],
       "afterGates": [{"type": "Approval", "name": "sre-signoff"}, {"type": "Wait", "duration": 600}]},
      {"name": "waves", "updateGroups": ["wave1", {"name": "wave2", "maxConcurrency": "25%",
         "beforeGates": [{"type": "Approval"}], "afterGates": [{"type": "HealthCheck", "soak": "5m"}]}],
       "sortBy": "topology.kubernetes.io/region"},
      {"name": "rest", "labelSelector": "env in (prod,staging),!frozen", "maxConcurrency": "50%"}
    ]})");
  REQUIRE(st);
  REQUIRE(st->stages.size() == 3);
  const StageSpec& canary = st->stages[0];
  CHECK(canary.name == "canary");
  REQUIRE(canary.groups.size() == 1);
  CHECK(canary.groups[0].name == "canary");
  CHECK_FALSE(canary.selector);
  CHECK(canary.max_concurrency == Budget{1, false});
  CHECK(canary.after_stage_wait == Seconds{5400});
  REQUIRE(canary.before_gates.size() == 1);
  CHECK(canary.before_gates[0].name == "canary.before-1");
  REQUIRE(canary.after_gates.size() == 2);
  CHECK(canary.after_gates[0].name == "sre-signoff");
  CHECK(canary.after_gates[1].name == "canary.after-2");
  CHECK(canary.after_gates[1].duration == Seconds{600});

  const StageSpec& waves = st->stages[1];
  REQUIRE(waves.groups.size() == 2);
  CHECK(waves.groups[0] == GroupSpec{"wave1", std::nullopt, {}, {}, std::nullopt});
  CHECK(waves.groups[1].name == "wave2");
  CHECK(waves.groups[1].max_concurrency == Budget{25, true});
  REQUIRE(waves.groups[1].before_gates.size() == 1);
  CHECK(waves.groups[1].before_gates[0].name == "waves.wave2.before-1");
  REQUIRE(waves.groups[1].after_gates.size() == 1);
  CHECK(waves.groups[1].after_gates[0].name == "waves.wave2.after-1");
  CHECK(waves.sort_by_label == "topology.kubernetes.io/region");
  CHECK_FALSE(waves.max_concurrency);
  CHECK(waves.after_stage_wait == Seconds{0});

  const StageSpec& rest = st->stages[2];
  REQUIRE(rest.selector);
  CHECK(model::to_string(*rest.selector) == "env in (prod,staging),!frozen");
  REQUIRE(rest.groups.size() == 1);  // one group named after the stage, without settings of its own
  CHECK(rest.groups[0] == GroupSpec{"rest", std::nullopt, {}, {}, std::nullopt});
  CHECK(rest.max_concurrency == Budget{50, true});

  // all_gates: stage before-gates, then each group's before and after gates, then stage after-gates.
  auto gates = all_gates(*st);
  REQUIRE(gates.size() == 5);
  CHECK(gates[0].gate->name == "canary.before-1");
  CHECK(gates[0].stage == 0);
  CHECK_FALSE(gates[0].group);
  CHECK(gates[0].before);
  CHECK(gates[1].gate->name == "sre-signoff");
  CHECK_FALSE(gates[1].before);
  CHECK(gates[2].gate->name == "canary.after-2");
  CHECK(gates[3].gate->name == "waves.wave2.before-1");
  CHECK(gates[3].stage == 1);
  CHECK(gates[3].group == std::optional<std::size_t>(1));
  CHECK(gates[3].before);
  CHECK(gates[4].gate->name == "waves.wave2.after-1");
  CHECK_FALSE(gates[4].before);
  CHECK(find_gate(*st, "sre-signoff") == &canary.after_gates[0]);
  CHECK(find_gate(*st, "waves.wave2.after-1") == &waves.groups[1].after_gates[0]);
  CHECK(find_gate(*st, "nope") == nullptr);

  // Written with every generated gate name explicit, and read back equal.
  json written = to_json(*st);
  CHECK(written["stages"][0]["beforeGates"][0]["name"] == "canary.before-1");
  CHECK(written["stages"][1]["updateGroups"][0] == "wave1");
  CHECK(written["stages"][1]["updateGroups"][1]["afterGates"][0]["name"] == "waves.wave2.after-1");
  CHECK(written["stages"][0]["maxConcurrency"] == "1");
  check_round_trip(*st);
}

TEST_CASE("strategy json: stage and strategy validation names the path", "[rollout][strategy]") {
  check_error(strategy_from_json(json::array(), "strategy"), "strategy", "invalid-field", "must be an object");
  check_error(strategy("{}"), "strategy.stages", "missing-field");
  check_error(strategy(R"({"stages": []})"), "strategy.stages", "invalid-field", "at least one stage");
  check_error(strategy(R"({"stages": {}})"), "strategy.stages");
  check_error(strategy(R"({"stages": [], "extra": 1})"), "strategy.extra", "unknown-field");
  CHECK(strategy_from_json(json{{"stages", stages_json(32)}}, "strategy"));
  check_error(strategy_from_json(json{{"stages", stages_json(33)}}, "strategy"), "strategy.stages", "invalid-field",
              "at most 32 stages");
  check_error(strategy(R"({"stages": ["canary"]})"), "strategy.stages[0]", "invalid-field", "must be an object");
  check_error(strategy(R"({"stages": [{"updateGroups": ["g"]}]})"), "strategy.stages[0].name", "missing-field");
  check_error(one_stage(R"("updateGroups": ["g"], "name2": 1)"), "strategy.stages[0].name2", "unknown-field");
  check_error(strategy(R"({"stages": [{"name": "Canary", "updateGroups": ["g"]}]})"), "strategy.stages[0].name",
              "invalid-field", "DNS-1123");
  check_error(strategy(R"({"stages": [{"name": "a", "updateGroups": ["g"]}, {"name": "a", "updateGroups": ["h"]}]})"),
              "strategy.stages[1].name", "invalid-field", "already used by strategy.stages[0]");
  check_error(one_stage(R"("maxConcurrency": 1)"), "strategy.stages[0]", "missing-field",
              "needs updateGroups or a labelSelector");
  check_error(one_stage(R"("updateGroups": ["g"], "labelSelector": "a=b")"), "strategy.stages[0].labelSelector",
              "invalid-field", "not both");
  check_error(one_stage(R"("updateGroups": [])"), "strategy.stages[0].updateGroups", "invalid-field",
              "at least one update group");
  check_error(one_stage(R"("updateGroups": "g")"), "strategy.stages[0].updateGroups");
  check_error(one_stage(R"("updateGroups": ["ok", "Not_OK"])"), "strategy.stages[0].updateGroups[1]", "invalid-field",
              "DNS-1123");
  check_error(one_stage(R"("updateGroups": ["ok", 7])"), "strategy.stages[0].updateGroups[1]", "invalid-field",
              "a group name or a group object");
  check_error(one_stage(R"("updateGroups": [{"maxConcurrency": 1}])"), "strategy.stages[0].updateGroups[0].name",
              "missing-field");
  check_error(one_stage(R"("updateGroups": [{"name": "g", "sortBy": "x"}])"),
              "strategy.stages[0].updateGroups[0].sortBy", "unknown-field");
  check_error(one_stage(R"("updateGroups": [{"name": "g", "maxConcurrency": "1.5"}])"),
              "strategy.stages[0].updateGroups[0].maxConcurrency");
  check_error(one_stage(R"("updateGroups": ["g"], "maxConcurrency": "101%")"), "strategy.stages[0].maxConcurrency");
  check_error(one_stage(R"("updateGroups": ["g"], "maxConcurrency": true)"), "strategy.stages[0].maxConcurrency");
  check_error(one_stage(R"("updateGroups": ["g"], "afterStageWait": "5 minutes")"),
              "strategy.stages[0].afterStageWait");
  check_error(one_stage(R"("updateGroups": ["g"], "sortBy": "bad key!")"), "strategy.stages[0].sortBy");
  check_error(one_stage(R"("labelSelector": "env in (prod")"), "strategy.stages[0].labelSelector", "invalid-field",
              "strategy.stages[0].labelSelector: ");
  check_error(one_stage(R"("labelSelector": 5)"), "strategy.stages[0].labelSelector");
  check_error(one_stage(R"("updateGroups": ["g"], "beforeGates": {})"), "strategy.stages[0].beforeGates");
  check_error(one_stage(R"("updateGroups": ["g"], "afterGates": [{"type": "Wait"}])"),
              "strategy.stages[0].afterGates[0].duration", "missing-field");
  check_error(strategy(R"({"stages": [{"name": "a", "updateGroups": ["g"]},
                                      {"name": "b", "updateGroups": ["h", {"name": "x", "afterGates": [{}]}]}]})"),
              "strategy.stages[1].updateGroups[1].afterGates[0].type", "missing-field");
}

TEST_CASE("strategy json: the DESIGN example's paths, one stage in", "[rollout][strategy]") {
  json body = json::parse(kDesignExample);
  body["strategy"]["stages"][1]["maxConcurrency"] = "half";
  check_error(run_spec_from_json(body), "strategy.stages[1].maxConcurrency");
  body = json::parse(kDesignExample);
  body["strategy"]["stages"][0]["name"] = "Canary!";
  check_error(run_spec_from_json(body), "strategy.stages[0].name");
}

TEST_CASE("strategy json: update groups in at most one stage, at most 64 a stage", "[rollout][strategy]") {
  auto twice = strategy(R"({"stages": [{"name": "canary", "updateGroups": ["canary", "wave1"]},
                                       {"name": "waves", "updateGroups": ["wave2", {"name": "wave1"}]}]})");
  check_error(twice, "strategy.stages[1].updateGroups[1]", "invalid-field",
              "update group \"wave1\" is in stage \"canary\" and in stage \"waves\"");
  check_error(one_stage(R"("updateGroups": ["g", "h", "g"])"), "strategy.stages[0].updateGroups[2]", "invalid-field",
              "listed twice in stage \"s\"");

  json groups = json::array();
  for (int i = 0; i < 64; ++i) groups.push_back("g" + std::to_string(i));
  json doc = {{"stages", {{{"name", "big"}, {"updateGroups", groups}}}}};
  auto max = strategy_from_json(doc, "strategy");
  REQUIRE(max);
  CHECK(max->stages[0].groups.size() == 64);
  doc["stages"][0]["updateGroups"].push_back("g64");
  check_error(strategy_from_json(doc, "strategy"), "strategy.stages[0].updateGroups", "invalid-field",
              "at most 64 update groups");

  // A selector stage's group is named after the stage, but it is not an update group: no clash with one.
  CHECK(strategy(R"({"stages": [{"name": "canary", "labelSelector": "ring=0"},
                                {"name": "waves", "updateGroups": ["canary"]}]})"));
}

TEST_CASE("strategy json: gate names unique across the strategy, at most 8 a scope", "[rollout][strategy]") {
  check_error(strategy(R"({"stages": [
                 {"name": "a", "updateGroups": ["g"], "afterGates": [{"type": "Approval", "name": "ok"}]},
                 {"name": "b", "updateGroups": [{"name": "h", "beforeGates": [{"type": "Approval", "name": "ok"}]}]}
               ]})"),
              "strategy.stages[1].updateGroups[0].beforeGates[0].name", "invalid-field",
              "gate name \"ok\" is already used by strategy.stages[0].afterGates[0]");
  check_error(one_stage(R"("updateGroups": ["g"], "beforeGates": [{"type": "Approval", "name": "x"}],
                           "afterGates": [{"type": "Wait", "name": "x", "duration": "1m"}])"),
              "strategy.stages[0].afterGates[0].name", "invalid-field", "already used");

  json gates = json::array();
  for (int i = 0; i < 8; ++i) gates.push_back({{"type", "Approval"}});
  json doc = {{"stages", {{{"name", "a"}, {"updateGroups", {"g"}}, {"beforeGates", gates}}}}};
  auto eight = strategy_from_json(doc, "strategy");
  REQUIRE(eight);
  CHECK(eight->stages[0].before_gates[7].name == "a.before-8");
  CHECK(all_gates(*eight).size() == 8);

  doc["stages"][0]["afterGates"] = {{{"type", "Approval"}}};
  check_error(strategy_from_json(doc, "strategy"), "strategy.stages[0].afterGates", "invalid-field",
              "at most 8 gates, beforeGates and afterGates together");
  doc["stages"][0].erase("afterGates");
  doc["stages"][0]["beforeGates"].push_back({{"type", "Approval"}});
  check_error(strategy_from_json(doc, "strategy"), "strategy.stages[0].beforeGates", "invalid-field",
              "a stage takes at most 8 gates");

  json group = {{"name", "g"}, {"afterGates", gates}};
  group["afterGates"].push_back({{"type", "Approval"}});
  json gdoc = {{"stages", {{{"name", "a"}, {"updateGroups", {group}}}}}};
  check_error(strategy_from_json(gdoc, "strategy"), "strategy.stages[0].updateGroups[0].afterGates", "invalid-field",
              "a group takes at most 8 gates");
  // The limit is per scope: a stage and each of its groups may have 8.
  json full_group = {{"name", "g"}, {"beforeGates", gates}};
  json sdoc = {{"stages", {{{"name", "a"}, {"updateGroups", {full_group}}, {"afterGates", gates}}}}};
  auto per_scope = strategy_from_json(sdoc, "strategy");
  REQUIRE(per_scope);
  CHECK(all_gates(*per_scope).size() == 16);
  check_round_trip(*per_scope);
}

TEST_CASE("strategy json: the DESIGN §6 example parses as written", "[rollout][strategy]") {
  auto spec = run_spec_from_json(json::parse(kDesignExample));
  REQUIRE(spec);
  CHECK(spec->name == "k8s-1-32");
  CHECK(spec->target.type == TargetType::kFull);
  CHECK(spec->target.kubernetes_version == model::parse_kubernetes_version("1.32.7"));
  CHECK(spec->target.node_image_selection == NodeImageSelection::kLatest);
  CHECK(spec->target.custom_node_image.empty());
  CHECK_FALSE(spec->target.allow_unsupported);
  CHECK(spec->strategy_ref.empty());
  CHECK(spec->node_upgrade == NodeUpgradeSettings{});

  const Strategy& st = spec->strategy;
  REQUIRE(st.stages.size() == 2);
  const StageSpec& canary = st.stages[0];
  CHECK(canary.name == "canary");
  REQUIRE(canary.groups.size() == 1);
  CHECK(canary.groups[0].name == "canary");
  CHECK(canary.max_concurrency == Budget{1, false});
  CHECK(canary.after_stage_wait == Seconds{0});
  CHECK(canary.before_gates.empty());
  REQUIRE(canary.after_gates.size() == 1);
  CHECK(canary.after_gates[0].name == "sre-signoff");
  CHECK(canary.after_gates[0].type == GateType::kApproval);
  CHECK_FALSE(canary.failure_policy);

  const StageSpec& waves = st.stages[1];
  CHECK(waves.name == "waves");
  REQUIRE(waves.groups.size() == 2);
  CHECK(waves.groups[0].name == "wave1");
  CHECK(waves.groups[1].name == "wave2");
  CHECK(waves.max_concurrency == Budget{50, true});
  CHECK(waves.max_concurrency->resolve_concurrency(5) == 2);
  REQUIRE(waves.failure_policy);
  CHECK(waves.failure_policy->max_failures == Budget{10, true});
  CHECK(waves.failure_policy->on_failure == OnFailure::kPause);
  CHECK(st.policy_of(waves, waves.groups[0]).max_failures == Budget{10, true});
  CHECK(st.policy_of(canary) == FailurePolicy{});

  REQUIRE(find_gate(st, "sre-signoff") != nullptr);
  CHECK(find_gate(st, "sre-signoff")->type == GateType::kApproval);

  // The frozen form reads back equal.
  json frozen = to_json(*spec);
  CHECK(frozen["target"]["kubernetesVersion"] == "1.32.7");
  CHECK(frozen["strategy"]["stages"][0]["maxConcurrency"] == "1");
  CHECK(frozen["strategy"]["stages"][1]["failurePolicy"]["maxFailures"] == "10%");
  auto back = run_spec_from_json(frozen);
  REQUIRE(back);
  CHECK(*back == *spec);
  auto frozen_back = frozen_run_spec_from_json(frozen);
  REQUIRE(frozen_back);
  CHECK(*frozen_back == *spec);
}

TEST_CASE("strategy json: run spec target rules", "[rollout][strategy]") {
  auto with_target = [](const std::string& target) {
    return run_spec_from_json(json::parse(R"({"name": "r", "strategyRef": "s", "target": )" + target + "}"));
  };
  auto cp = with_target(R"({"type": "ControlPlaneOnly", "kubernetesVersion": "v1.31.4"})");
  REQUIRE(cp);
  CHECK(cp->target.type == TargetType::kControlPlaneOnly);
  CHECK(model::to_string(*cp->target.kubernetes_version) == "1.31.4");
  auto nio = with_target(R"({"type": "NodeImageOnly", "nodeImageSelection": "Consistent"})");
  REQUIRE(nio);
  CHECK(nio->target.type == TargetType::kNodeImageOnly);
  CHECK_FALSE(nio->target.kubernetes_version);
  CHECK(nio->target.node_image_selection == NodeImageSelection::kConsistent);
  auto custom = with_target(R"({"type": "Full", "kubernetesVersion": "1.32.7", "nodeImageSelection": "Custom",
                                "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202510.01.0",
                                "allowUnsupported": true})");
  REQUIRE(custom);
  CHECK(custom->target.node_image_selection == NodeImageSelection::kCustom);
  CHECK(custom->target.custom_node_image == "AKSUbuntu-2204gen2containerd-202510.01.0");
  CHECK(custom->target.allow_unsupported);
  // Ignored for ControlPlaneOnly, but still checked.
  CHECK(with_target(R"({"type": "ControlPlaneOnly", "kubernetesVersion": "1.31.4", "nodeImageSelection": "Latest"})"));
  check_error(with_target(R"({"type": "ControlPlaneOnly", "kubernetesVersion": "1.31.4",
                              "nodeImageSelection": "Newest"})"),
              "target.nodeImageSelection", "invalid-field", "Latest, Consistent, Custom or Previous");

  check_error(run_spec_from_json(json::parse(R"({"name": "r", "strategyRef": "s"})")), "target", "missing-field");
  check_error(with_target(R"("Full")"), "target");
  check_error(with_target(R"({"kubernetesVersion": "1.32.7"})"), "target.type", "missing-field");
  check_error(with_target(R"({"type": "Everything"})"), "target.type", "invalid-field",
              "Full, ControlPlaneOnly or NodeImageOnly");
  check_error(with_target(R"({"type": "Full"})"), "target.kubernetesVersion", "missing-field");
  check_error(with_target(R"({"type": "ControlPlaneOnly"})"), "target.kubernetesVersion", "missing-field");
  check_error(with_target(R"({"type": "Full", "kubernetesVersion": "1.32"})"), "target.kubernetesVersion",
              "invalid-field", "a version such as");
  check_error(with_target(R"({"type": "Full", "kubernetesVersion": 1.32})"), "target.kubernetesVersion");
  check_error(with_target(R"({"type": "NodeImageOnly", "kubernetesVersion": "1.32.7"})"), "target.kubernetesVersion",
              "invalid-field", "NodeImageOnly");
  check_error(with_target(R"({"type": "Full", "kubernetesVersion": "1.32.7", "nodeImageVersion": "img-1"})"),
              "target.nodeImageVersion", "invalid-field", "only for nodeImageSelection Custom");
  check_error(with_target(R"({"type": "NodeImageOnly", "nodeImageSelection": "Consistent",
                              "nodeImageVersion": "img-1"})"),
              "target.nodeImageVersion");
  check_error(with_target(R"({"type": "NodeImageOnly", "nodeImageSelection": "Custom"})"), "target.nodeImageVersion",
              "missing-field");
  check_error(with_target(R"({"type": "NodeImageOnly", "nodeImageSelection": "Custom", "nodeImageVersion": "a b"})"),
              "target.nodeImageVersion");
  check_error(with_target(R"({"type": "Full", "kubernetesVersion": "1.32.7", "allowUnsupported": "yes"})"),
              "target.allowUnsupported");
  check_error(with_target(R"({"type": "Full", "kubernetesVersion": "1.32.7", "version": "1.32.7"})"), "target.version",
              "unknown-field");

  CHECK(to_string(TargetType::kFull) == "Full");
  CHECK(to_string(TargetType::kControlPlaneOnly) == "ControlPlaneOnly");
  CHECK(to_string(TargetType::kNodeImageOnly) == "NodeImageOnly");
  CHECK(to_string(NodeImageSelection::kLatest) == "Latest");
  CHECK(to_string(NodeImageSelection::kConsistent) == "Consistent");
  CHECK(to_string(NodeImageSelection::kCustom) == "Custom");
  CHECK(to_string(NodeImageSelection::kPrevious) == "Previous");
  // Rollback (issue #13 item 5): Previous needs rollbackOf and a NodeImageOnly target; rollbackOf needs Previous.
  auto rollback =
      with_target(R"({"type": "NodeImageOnly", "nodeImageSelection": "Previous", "rollbackOf": "k8s-1-32"})");
  REQUIRE(rollback);
  CHECK(rollback->target.node_image_selection == NodeImageSelection::kPrevious);
  CHECK(rollback->target.rollback_of == "k8s-1-32");
  CHECK(to_json(rollback->target)["rollbackOf"] == "k8s-1-32");
  check_error(with_target(R"({"type": "NodeImageOnly", "nodeImageSelection": "Previous"})"), "target.rollbackOf",
              "missing-field");
  check_error(with_target(R"({"type": "Full", "kubernetesVersion": "1.32.7", "nodeImageSelection": "Previous",
                              "rollbackOf": "k8s-1-32"})"),
              "target.nodeImageSelection", "invalid-field", "never downgraded");
  check_error(with_target(R"({"type": "NodeImageOnly", "rollbackOf": "k8s-1-32"})"), "target.rollbackOf",
              "invalid-field", "only for nodeImageSelection Previous");
  check_error(with_target(R"({"type": "NodeImageOnly", "nodeImageSelection": "Previous", "rollbackOf": "Not A Name"})"),
              "target.rollbackOf");
  for (const auto* spec : {&*cp, &*nio, &*custom, &*rollback}) {
    json t = to_json(spec->target);
    auto back = with_target(t.dump());
    REQUIRE(back);
    CHECK(back->target == spec->target);
  }
}

TEST_CASE("strategy json: strategy or strategyRef, node upgrade settings", "[rollout][strategy]") {
  const std::string target = R"("target": {"type": "Full", "kubernetesVersion": "1.32.7"})";
  auto parse = [&](const std::string& rest) {
    return run_spec_from_json(json::parse(R"({"name": "r", )" + target + rest + "}"));
  };
  auto by_ref = parse(R"(, "strategyRef": "three-waves")");
  REQUIRE(by_ref);
  CHECK(by_ref->strategy_ref == "three-waves");
  CHECK(by_ref->strategy.stages.empty());
  check_error(parse(""), "strategy", "missing-field", "strategyRef");
  check_error(parse(R"(, "strategyRef": "x", "strategy": {"stages": [{"name": "a", "updateGroups": ["g"]}]})"),
              "strategyRef", "invalid-field", "not both");
  check_error(parse(R"(, "strategyRef": "Not A Name")"), "strategyRef");
  check_error(parse(R"(, "strategy": "three-waves")"), "strategy", "invalid-field", "must be an object");
  check_error(parse(R"(, "strategy": {"stages": [{"name": "a"}]})"), "strategy.stages[0]", "missing-field");
  check_error(parse(R"(, "strategyRef": "x", "steps": [])"), "steps", "unknown-field");
  check_error(run_spec_from_json(json::parse(R"({"strategyRef": "x", )" + target + "}")), "name", "missing-field");
  check_error(run_spec_from_json(json::parse(R"({"name": "K8s", "strategyRef": "x", )" + target + "}")), "name");
  check_error(run_spec_from_json(json::array()), "", "invalid-field", "JSON object");

  auto nodes = parse(R"(, "strategyRef": "x", "nodeUpgrade": {"maxSurge": "25%", "maxUnavailable": "1",
                          "maxFailedNodes": 2})");
  REQUIRE(nodes);
  CHECK(nodes->node_upgrade.max_surge == protocol::NodeBudget{25, true});
  CHECK(nodes->node_upgrade.max_unavailable == protocol::NodeBudget{1, false});
  CHECK(nodes->node_upgrade.max_failed_nodes == 2);
  auto defaults = parse(R"(, "strategyRef": "x", "nodeUpgrade": {})");
  REQUIRE(defaults);
  CHECK(defaults->node_upgrade.max_surge == protocol::NodeBudget{1, false});
  CHECK(defaults->node_upgrade.max_unavailable == protocol::NodeBudget{0, false});
  CHECK(defaults->node_upgrade.max_failed_nodes == 0);
  auto zero_surge = parse(R"(, "strategyRef": "x", "nodeUpgrade": {"maxSurge": 0, "maxUnavailable": 1})");
  REQUIRE(zero_surge);
  CHECK(zero_surge->node_upgrade.max_surge == protocol::NodeBudget{0, false});
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"maxSurge": 0})"), "nodeUpgrade.maxUnavailable",
              "invalid-field", "must not both be 0");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"maxSurge": "101%"})"), "nodeUpgrade.maxSurge");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"maxSurge": -1})"), "nodeUpgrade.maxSurge");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"maxSurge": 5001})"), "nodeUpgrade.maxSurge");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"maxSurge": 1.5})"), "nodeUpgrade.maxSurge");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"maxUnavailable": "x%"})"), "nodeUpgrade.maxUnavailable");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"maxFailedNodes": 1001})"), "nodeUpgrade.maxFailedNodes");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"surge": 1})"), "nodeUpgrade.surge", "unknown-field");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": [])"), "nodeUpgrade");

  // Blue-green pools (issue #13 item 4).
  auto bg = parse(R"(, "strategyRef": "x", "nodeUpgrade": {"blueGreen": {"pools": ["gpu"], "soak": "20m"}})");
  REQUIRE(bg);
  REQUIRE(bg->node_upgrade.blue_green);
  CHECK(bg->node_upgrade.blue_green->pools == std::vector<std::string>{"gpu"});
  CHECK(bg->node_upgrade.blue_green->soak == Seconds{1200});
  CHECK(bg->node_upgrade.blue_green->applies_to("gpu"));
  CHECK_FALSE(bg->node_upgrade.blue_green->applies_to("system"));
  auto every = parse(R"(, "strategyRef": "x", "nodeUpgrade": {"blueGreen": {}})");
  REQUIRE(every);
  CHECK(every->node_upgrade.blue_green->applies_to("system"));
  CHECK(every->node_upgrade.blue_green->soak == Seconds{3600});
  CHECK_FALSE(defaults->node_upgrade.blue_green);
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"blueGreen": {"pools": ["gpu", "gpu"]}})"),
              "nodeUpgrade.blueGreen.pools[1]", "invalid-field", "twice");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"blueGreen": {"pools": ["GPU"]}})"),
              "nodeUpgrade.blueGreen.pools[0]");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"blueGreen": {"pools": "gpu"}})"),
              "nodeUpgrade.blueGreen.pools");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"blueGreen": {"soak": "forever"}})"),
              "nodeUpgrade.blueGreen.soak");
  check_error(parse(R"(, "strategyRef": "x", "nodeUpgrade": {"blueGreen": {"surge": 1}})"),
              "nodeUpgrade.blueGreen.surge", "unknown-field");

  // The frozen form keeps strategyRef beside the inline strategy fleetd resolved; only the frozen reader takes both.
  RunSpec resolved = *nodes;
  resolved.strategy = *strategy(R"({"stages": [{"name": "a", "updateGroups": ["g"]}]})");
  json frozen = to_json(resolved);
  CHECK(frozen["strategyRef"] == "x");
  CHECK(frozen["nodeUpgrade"]["maxSurge"] == "25%");
  CHECK(frozen["nodeUpgrade"]["maxUnavailable"] == 1);
  auto back = frozen_run_spec_from_json(frozen);
  REQUIRE(back);
  CHECK(*back == resolved);
  check_error(run_spec_from_json(frozen), "strategyRef", "invalid-field", "not both");
  json no_strategy = frozen;
  no_strategy.erase("strategy");
  check_error(frozen_run_spec_from_json(no_strategy), "strategy", "missing-field");
}

TEST_CASE("strategy json: a rich strategy round-trips", "[rollout][strategy]") {
  Strategy st;
  st.failure_policy = FailurePolicy{Budget{5, true}, OnFailure::kContinue};
  StageSpec a;
  a.name = "canary";
  a.groups = {GroupSpec{"canary", Budget{1, false}, {}, {}, FailurePolicy{Budget{0, false}, OnFailure::kPause}}};
  a.after_stage_wait = Seconds{3630};
  Gate wait;
  wait.name = "soak-it";
  wait.type = GateType::kWait;
  wait.duration = Seconds{900};
  Gate health;
  health.name = "gpus";
  health.type = GateType::kHealthCheck;
  health.min_admitted_gpu_ratio = 0.875;
  health.soak = Seconds{300};
  health.timeout = Seconds{7200};
  Gate when;
  when.name = "after-hours";
  when.type = GateType::kScheduledStart;
  when.not_before = *parse_timestamp("2026-03-01T22:00:00.250Z");
  a.before_gates = {when};
  a.after_gates = {wait, health};
  StageSpec b;
  b.name = "prod";
  b.selector = *model::parse_label_selector("env=prod,tier notin (gold),gpu");
  b.groups = {GroupSpec{"prod", std::nullopt, {}, {}, std::nullopt}};
  b.sort_by_label = "region";
  b.max_concurrency = Budget{20, true};
  b.failure_policy = FailurePolicy{Budget{3, false}, OnFailure::kPause};
  Gate approval;
  approval.name = "prod-ok";
  b.before_gates = {approval};
  st.stages = {a, b};
  check_round_trip(st);

  RunSpec spec;
  spec.name = "rich";
  spec.target.type = TargetType::kNodeImageOnly;
  spec.target.node_image_selection = NodeImageSelection::kCustom;
  spec.target.custom_node_image = "AzureLinux-3-202510.01.0";
  spec.strategy = st;
  spec.node_upgrade = NodeUpgradeSettings{{0, false}, {10, true}, 3, BlueGreenSettings{{"gpu", "gpu2"}, Seconds{1800}}};
  auto back = run_spec_from_json(to_json(spec));
  REQUIRE(back);
  CHECK(*back == spec);
}

TEST_CASE("strategy json: steps as JSON and in words", "[rollout][strategy][step]") {
  Step cp{StepKind::kControlPlane, "", model::parse_kubernetes_version("1.31.11"), "", 0, 0, "", ""};
  Step pool{StepKind::kNodePool,
            "gpu",
            model::parse_kubernetes_version("1.32.7"),
            "AKSUbuntu-2204gen2-202510.01.0",
            4,
            4,
            "",
            ""};
  Step image_only{StepKind::kNodePool, "system", std::nullopt, "AzureLinux-3-202510.01.0", 1, 0, "", ""};
  Step version_only{StepKind::kNodePool, "cpu", model::parse_kubernetes_version("1.32.7"), "", 3, 0, "", ""};
  Step swap{StepKind::kNodePool, "gpu", model::parse_kubernetes_version("1.32.7"), "", 4, 4, "", "gpu2"};
  CHECK(describe(swap) == "pool gpu → gpu2 at 1.32.7 (4 nodes, 4 GPU, blue-green)");
  CHECK(to_json(swap)["replacementPool"] == "gpu2");
  CHECK(describe(cp) == "control plane → 1.31.11");
  CHECK(describe(pool) == "pool gpu → 1.32.7, AKSUbuntu-2204gen2-202510.01.0 (4 nodes, 4 GPU)");
  CHECK(describe(image_only) == "pool system → AzureLinux-3-202510.01.0 (1 node)");
  CHECK(describe(version_only) == "pool cpu → 1.32.7 (3 nodes)");

  json j = to_json(pool);
  CHECK(j == json::parse(R"({"kind": "NodePool", "pool": "gpu", "kubernetesVersion": "1.32.7",
                             "nodeImage": "AKSUbuntu-2204gen2-202510.01.0", "nodes": 4, "gpuNodes": 4})"));
  CHECK(to_json(cp) == json::parse(R"({"kind": "ControlPlane", "kubernetesVersion": "1.31.11", "nodes": 0,
                                       "gpuNodes": 0})"));
  for (const Step& s : {cp, pool, image_only, version_only, swap}) {
    auto back = step_from_json(to_json(s));
    INFO(to_json(s).dump());
    REQUIRE(back);
    CHECK(*back == s);
  }

  check_error(step_from_json(json("ControlPlane")), "", "invalid-field");
  check_error(step_from_json(json::parse(R"({"nodes": 0, "gpuNodes": 0})")), "kind", "missing-field");
  check_error(step_from_json(json::parse(R"({"kind": "Pool", "nodes": 0, "gpuNodes": 0})")), "kind");
  check_error(step_from_json(json::parse(R"({"kind": "ControlPlane", "nodes": 0, "gpuNodes": 0})")),
              "kubernetesVersion", "missing-field");
  check_error(step_from_json(json::parse(R"({"kind": "ControlPlane", "pool": "a", "kubernetesVersion": "1.31.1",
                                             "nodes": 0, "gpuNodes": 0})")),
              "pool", "unknown-field");
  check_error(step_from_json(json::parse(R"({"kind": "NodePool", "kubernetesVersion": "1.31.1", "nodes": 1,
                                             "gpuNodes": 0})")),
              "pool", "missing-field");
  check_error(step_from_json(json::parse(R"({"kind": "NodePool", "pool": "a", "nodes": 1, "gpuNodes": 0})")), "",
              "missing-field");
  check_error(step_from_json(json::parse(R"({"kind": "NodePool", "pool": "a", "kubernetesVersion": "x",
                                             "nodes": 1, "gpuNodes": 0})")),
              "kubernetesVersion");
  check_error(step_from_json(json::parse(R"({"kind": "NodePool", "pool": "a", "nodeImage": "i", "gpuNodes": 0})")),
              "nodes", "missing-field");
  check_error(step_from_json(json::parse(R"({"kind": "NodePool", "pool": "a", "nodeImage": "i", "nodes": 2,
                                             "gpuNodes": 3})")),
              "gpuNodes", "invalid-field", "not be more than nodes");
  check_error(step_from_json(json::parse(R"({"kind": "NodePool", "pool": "a", "nodeImage": "i", "nodes": -1,
                                             "gpuNodes": 0})")),
              "nodes");
}

namespace {

Result<Strategy> with_windows(const std::string& windows) {
  return strategy(R"({"stages": [{"name": "s", "labelSelector": "x=y"}], "maintenanceWindows": )" + windows + "}");
}

}  // namespace

TEST_CASE("strategy json: maintenance windows, first match applies, round trip", "[rollout][strategy][window]") {
  auto st = with_windows(R"j([
    {"clusterSelector": "env=prod", "window": {"days": ["Sun", "Sat"], "start": "02:00", "duration": "4h",
                                               "timeZone": "Europe/Berlin"}},
    {"clusterSelector": "env in (prod,staging)", "window": {"days": ["Mon"], "start": "22:30", "duration": "90m",
                                                          "timeZone": "UTC"}},
    {"window": {"days": ["Wed"], "start": "00:00", "duration": "1d", "timeZone": "America/New_York"}}])j");
  REQUIRE(st);
  REQUIRE(st->maintenance_windows.size() == 3);
  const WindowRule& prod = st->maintenance_windows[0];
  CHECK(prod.window.days == std::vector<int>{6, 7});
  CHECK(prod.window.start == std::chrono::minutes(120));
  CHECK(prod.window.duration == std::chrono::minutes(240));
  CHECK(prod.window.time_zone == "Europe/Berlin");
  CHECK(st->maintenance_windows[2].selector.empty());
  // The first rule whose selector matches; none: no window.
  CHECK(st->window_for({{"env", "prod"}}) == std::optional<std::size_t>(0));
  CHECK(st->window_for({{"env", "staging"}}) == std::optional<std::size_t>(1));
  CHECK(st->window_for({{"env", "dev"}}) == std::optional<std::size_t>(2));
  auto two = with_windows(R"([{"clusterSelector": "env=prod", "window": {"days": ["Sat"], "start": "02:00",
                                "duration": "4h", "timeZone": "UTC"}}])");
  REQUIRE(two);
  CHECK_FALSE(two->window_for({{"env", "dev"}}));
  CHECK_FALSE(two->window_for({}));

  check_round_trip(*st);
  const json out = to_json(*st);
  CHECK(out["maintenanceWindows"][0] ==
        json::parse(R"({"clusterSelector": "env=prod", "window": {"days": ["Sat", "Sun"], "start": "02:00",
                        "duration": "4h", "timeZone": "Europe/Berlin"}})"));
  CHECK_FALSE(out["maintenanceWindows"][2].contains("clusterSelector"));
  // No windows: the member is not written at all (strategies from before are unchanged).
  auto none = with_windows("[]");
  REQUIRE(none);
  CHECK(none->maintenance_windows.empty());
  CHECK_FALSE(to_json(*none).contains("maintenanceWindows"));

  // Inline in a run spec, frozen with it.
  json body = json::parse(kDesignExample);
  body["strategy"]["maintenanceWindows"] = out["maintenanceWindows"];
  auto spec = run_spec_from_json(body);
  REQUIRE(spec);
  CHECK(spec->strategy.maintenance_windows == st->maintenance_windows);
  auto frozen = frozen_run_spec_from_json(to_json(*spec));
  REQUIRE(frozen);
  CHECK(*frozen == *spec);
}

TEST_CASE("strategy json: refused maintenance windows name the member", "[rollout][strategy][window]") {
  const std::string ok_window = R"({"days": ["Sat"], "start": "02:00", "duration": "4h", "timeZone": "UTC"})";
  const std::string ok_rule = R"({"clusterSelector": "a=b", "window": )" + ok_window + "}";
  check_error(with_windows("{}"), "strategy.maintenanceWindows", "invalid-field");
  check_error(with_windows("[5]"), "strategy.maintenanceWindows[0]", "invalid-field", "must be an object");
  check_error(with_windows("[" + ok_rule + R"(, {"clusterSelector": "a=b"}])"), "strategy.maintenanceWindows[1].window",
              "missing-field");
  check_error(with_windows("[" + ok_rule + R"(, {"selector": "a=b", "window": )" + ok_window + "}]"),
              "strategy.maintenanceWindows[1].selector", "unknown-field");
  check_error(with_windows(R"j([{"clusterSelector": "env in (prod", "window": )j" + ok_window + "}]"),
              "strategy.maintenanceWindows[0].clusterSelector", "invalid-field");
  check_error(with_windows(R"([{"clusterSelector": 7, "window": )" + ok_window + "}]"),
              "strategy.maintenanceWindows[0].clusterSelector", "invalid-field");
  check_error(with_windows(R"([{"window": "Sat 02:00"}])"), "strategy.maintenanceWindows[0].window", "invalid-field");
  auto window_error = [&](const std::string& window, const std::string& member, const std::string& contains) {
    INFO(window);
    check_error(with_windows("[" + ok_rule + R"(, {"window": )" + window + "}]"),
                "strategy.maintenanceWindows[1].window." + member, "invalid-field", contains);
  };
  window_error(R"({"days": ["Sat"], "start": "02:00", "duration": "4h", "timeZone": "Mars/Olympus"})", "timeZone",
               "not a time zone");
  window_error(R"({"days": ["Sat"], "start": "02:00", "duration": "4h"})", "timeZone", "IANA");
  window_error(R"({"days": ["Caturday"], "start": "02:00", "duration": "4h", "timeZone": "UTC"})", "days", "Mon … Sun");
  window_error(R"({"days": [], "start": "02:00", "duration": "4h", "timeZone": "UTC"})", "days", "1 to 7");
  window_error(R"({"days": ["Sat"], "start": "24:00", "duration": "4h", "timeZone": "UTC"})", "start", "HH:MM");
  window_error(R"({"days": ["Sat"], "start": "02:00", "duration": "8d", "timeZone": "UTC"})", "duration", "1m to 7d");
  window_error(R"({"days": ["Sat"], "start": "02:00", "duration": "0m", "timeZone": "UTC"})", "duration", "1m to 7d");
  check_error(with_windows(R"([{"window": {"days": ["Sat"], "start": "02:00", "duration": "4h", "timeZone": "UTC",
                                        "tz": "x"}}])"),
              "strategy.maintenanceWindows[0].window.tz", "unknown-field");
  // At most 16.
  std::string sixteen = "[";
  for (int i = 0; i < 16; ++i) sixteen += (i == 0 ? "" : ",") + ok_rule;
  CHECK(with_windows(sixteen + "]"));
  check_error(with_windows(sixteen + "," + ok_rule + "]"), "strategy.maintenanceWindows", "invalid-field",
              "at most 16");
}
