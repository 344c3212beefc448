#include "protocol/probe_result.hpp"

#include <catch2/catch.hpp>

#include "common/time_format.hpp"
#include "protocol/heartbeat.hpp"

namespace fleet::protocol {
namespace {

using nlohmann::json;

ProbeResult failed_probe() {
  ProbeResult r;
  r.probe_id = "gpu-3.join.1";
  r.node = "gpu-3";
  r.trigger = "join";
  r.gpu_uuids = {"GPU-0a", "GPU-0b"};
  r.started_at = *parse_timestamp("2026-12-03T10:00:00.000Z");
  r.finished_at = *parse_timestamp("2026-12-03T10:00:14.250Z");
  r.verdict = "fail";
  r.reason = "failed: hbm_bandwidth";
  r.failed_checks = {"hbm_bandwidth"};
  r.probe_version = "0.4.0";
  r.report = json{{"verdict", "fail"}, {"gpus", json::array()}};
  return r;
}

Error refused(const json& j) {
  auto r = probe_result_from_json(j, "probeResults[0]");
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace

TEST_CASE("probe results round-trip through JSON", "[protocol][probe]") {
  const ProbeResult r = failed_probe();
  auto back = probe_result_from_json(json::parse(to_json(r).dump()), "r");
  REQUIRE(back.ok());
  CHECK(*back == r);
  CHECK(to_json(r)["finishedAt"] == "2026-12-03T10:00:14.250Z");

  ProbeResult no_report = r;
  no_report.report.reset();
  no_report.probe_version.clear();
  no_report.verdict = "not-run";
  no_report.reason = "timed out after 600 s";
  no_report.failed_checks.clear();
  CHECK_FALSE(to_json(no_report).contains("report"));
  CHECK(*probe_result_from_json(to_json(no_report), "r") == no_report);
}

TEST_CASE("probe results are validated and limited, naming the member", "[protocol][probe]") {
  const json good = to_json(failed_probe());
  auto with = [&](const char* key, json value) {
    json j = good;
    j[key] = std::move(value);
    return j;
  };
  auto without = [&](const char* key) {
    json j = good;
    j.erase(key);
    return j;
  };
  CHECK(refused(without("probeId")).field == "probeResults[0].probeId");
  CHECK(refused(with("probeId", "a b")).field == "probeResults[0].probeId");
  CHECK(refused(with("node", "Not_A_Node")).field == "probeResults[0].node");
  CHECK(refused(with("trigger", "whim")).field == "probeResults[0].trigger");
  CHECK(refused(with("verdict", "maybe")).field == "probeResults[0].verdict");
  CHECK(refused(with("startedAt", "yesterday")).field == "probeResults[0].startedAt");
  CHECK(refused(with("finishedAt", "2026-12-03T09:00:00Z")).field == "probeResults[0].finishedAt");
  CHECK(refused(with("gpuUuids", json::array({1}))).field == "probeResults[0].gpuUuids[0]");
  CHECK(refused(with("failedChecks", json(std::vector<std::string>(65, "x")))).field == "probeResults[0].failedChecks");
  CHECK(refused(with("reason", std::string(2000, 'x'))).field == "probeResults[0].reason");
  CHECK(refused(with("report", "not an object")).field == "probeResults[0].report");
  CHECK(refused(with("report", json{{"blob", std::string(300 * 1024, 'x')}})).field == "probeResults[0].report");
  CHECK(refused(with("extra", 1)).type == "unknown-field");
  // Only a passing report admits: a record that says a failed probe admitted is refused.
  CHECK(refused(with("admitted", true)).field == "probeResults[0].admitted");
  CHECK(probe_result_from_json(with("verdict", "pass"), "r").ok());  // a pass not (yet) admitted is fine
}

TEST_CASE("unguarded nodes round-trip through the heartbeat and are validated", "[protocol][probe]") {
  UnguardedNode n{"gpu-3", *parse_timestamp("2026-12-03T10:00:00.000Z"), 300.5, 2, {"default/web-0", "ml/train-1"}};
  HeartbeatEnvelope e;
  e.agent_version = "1.0";
  e.sequence = 2;
  e.delta = InventoryDelta{};
  e.unguarded_nodes = {n, UnguardedNode{"gpu-4", n.seen_at, std::nullopt, std::nullopt, {}}};
  auto back = heartbeat_from_json(json::parse(to_json(e).dump()));
  REQUIRE(back.ok());
  CHECK(*back == e);
  CHECK_FALSE(to_json(e.unguarded_nodes[1]).contains("seconds"));
  json bad = to_json(e);
  bad["unguardedNodes"][0]["seconds"] = -1;
  CHECK(heartbeat_from_json(bad).error().field == "unguardedNodes[0].seconds");
  bad = to_json(e);
  bad["unguardedNodes"][0]["podNames"] = std::vector<std::string>(11, "a/b");
  CHECK(heartbeat_from_json(bad).error().field == "unguardedNodes[0].podNames");
  bad = to_json(e);
  bad["unguardedNodes"][0]["node"] = "Bad_Node";
  CHECK(heartbeat_from_json(bad).error().field == "unguardedNodes[0].node");
}

TEST_CASE("heartbeats carry probe results, at most 256", "[protocol][probe]") {
  HeartbeatEnvelope e;
  e.agent_version = "1.0";
  e.sequence = 2;
  e.full = false;
  e.delta = InventoryDelta{};
  e.probe_results = {failed_probe()};
  auto back = heartbeat_from_json(json::parse(to_json(e).dump()));
  REQUIRE(back.ok());
  CHECK(*back == e);

  e.probe_results.clear();
  CHECK_FALSE(to_json(e).contains("probeResults"));

  json many = to_json(e);
  many["probeResults"] = json::array();
  for (int i = 0; i < 257; ++i) many["probeResults"].push_back(to_json(failed_probe()));
  CHECK(heartbeat_from_json(many).error().field == "probeResults");
  many["probeResults"] = json::array({json{{"probeId", "x"}}});
  CHECK(heartbeat_from_json(many).error().field == "probeResults[0].node");
}

}  // namespace fleet::protocol
