// The heartbeat's workload statuses (issue #15 item 4): the JSON form round-trips inside an envelope, and every
// limit of an untrusted report is refused naming the member.
#include <catch2/catch.hpp>

#include "protocol/heartbeat.hpp"
#include "protocol/heartbeat_unknown_fields.hpp"
#include "protocol/workload_status.hpp"

namespace fleet::protocol {

using nlohmann::json;

TEST_CASE("workload status: round trip in a heartbeat envelope", "[protocol][heartbeat]") {
  HeartbeatEnvelope e;
  e.agent_version = "0.9.0";
  e.sequence = 7;
  e.delta = InventoryDelta{};
  e.workload_statuses = {
      {"llama-70b", 3, WorkloadReadiness::kReady, ""},
      {"train-8b", 1, WorkloadReadiness::kFailed,
       "Job train/train-8b: BackoffLimitExceeded: Job has reached the "
       "specified backoff limit"},
      {"vllm", 2, WorkloadReadiness::kProgressing, "Deployment serving/vllm: 1 of 2 updated replicas available"}};
  const json encoded = to_json(e);
  CHECK(encoded["workloadStatuses"][0] == json{{"workload", "llama-70b"}, {"generation", 3}, {"state", "Ready"}});
  CHECK(encoded["workloadStatuses"][1]["state"] == "Failed");
  CHECK(unknown_heartbeat_fields(encoded).empty());
  auto back = heartbeat_from_json(encoded);
  REQUIRE(back.ok());
  CHECK(back->workload_statuses == e.workload_statuses);

  HeartbeatEnvelope none;
  none.sequence = 8;
  none.delta = InventoryDelta{};
  CHECK_FALSE(to_json(none).contains("workloadStatuses"));
}

TEST_CASE("workload status: bad reports are refused naming the member", "[protocol][heartbeat]") {
  const json good = {{"workload", "llama"}, {"generation", 1}, {"state", "Ready"}};
  REQUIRE(workload_status_from_json(good, "workloadStatuses[0]").ok());
  const std::vector<std::pair<json, std::string>> bad = {
      {json::array(), "workloadStatuses[0]"},
      {{{"workload", "Llama_70B"}, {"generation", 1}, {"state", "Ready"}}, "workloadStatuses[0].workload"},
      {{{"generation", 1}, {"state", "Ready"}}, "workloadStatuses[0].workload"},
      {{{"workload", "llama"}, {"generation", 0}, {"state", "Ready"}}, "workloadStatuses[0].generation"},
      {{{"workload", "llama"}, {"state", "Ready"}}, "workloadStatuses[0].generation"},
      {{{"workload", "llama"}, {"generation", 1}, {"state", "Running"}}, "workloadStatuses[0].state"},
      {{{"workload", "llama"}, {"generation", 1}, {"state", "Ready"}, {"message", std::string(1025, 'x')}},
       "workloadStatuses[0].message"},
      {{{"workload", "llama"}, {"generation", 1}, {"state", "Ready"}, {"pods", 3}}, "workloadStatuses[0].pods"}};
  for (const auto& [j, field] : bad) {
    auto r = workload_status_from_json(j, "workloadStatuses[0]");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalid);
    CHECK(r.error().field == field);
  }

  json envelope = {{"agentVersion", "x"},
                   {"sequence", 1},
                   {"full", false},
                   {"delta", json::object()},
                   {"workloadStatuses", json::array()}};
  for (std::size_t i = 0; i <= kMaxWorkloadStatusesPerHeartbeat; ++i) envelope["workloadStatuses"].push_back(good);
  auto r = heartbeat_from_json(envelope);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().field == "workloadStatuses");
}

}  // namespace fleet::protocol
