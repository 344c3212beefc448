#include <catch2/catch.hpp>

#include "placement/cluster_capacity.hpp"
#include "placement/decision_json.hpp"
#include "placement/tests/placement_fixtures.hpp"

namespace fleet::placement {

using namespace testing;

TEST_CASE("a decision round-trips through its JSON form", "[placement][decision_json]") {
  PlacementEngine engine(Snapshot{{gpu_cluster("a", 2), gpu_cluster("b", 1, 6)}});
  const Decision decision = engine.place(divided(workload("w", 4, 3, PolicyType::kPickN, 2)));
  const nlohmann::json j = to_json(decision);
  CHECK(j.at("state") == "Placed");
  CHECK(j.at("bindings").at(0) == nlohmann::json::parse(R"({"cluster": "a", "replicas": 3,
      "nodes": [{"node": "a-n0", "replicas": 2}, {"node": "a-n1", "replicas": 1}]})"));
  CHECK(j.at("rejected").at(0).at("code") == "InsufficientCapacity");
  auto back = decision_from_json(j);
  REQUIRE(back);
  CHECK(*back == decision);
}

TEST_CASE("a stored decision that is not one is an error, not a crash", "[placement][decision_json]") {
  CHECK_FALSE(decision_from_json(nlohmann::json::array()));
  CHECK_FALSE(decision_from_json(nlohmann::json::parse(R"({"state": "Maybe"})")));
  CHECK_FALSE(decision_from_json(nlohmann::json::parse(
      R"({"state": "Placed", "replicasWanted": 1, "replicasBound": 1, "bindings": [{"cluster": 3}], "rejected": []})")));
  const auto bad_code = decision_from_json(nlohmann::json::parse(
      R"({"state": "Placed", "replicasWanted": 1, "replicasBound": 1, "bindings": [],
          "rejected": [{"cluster": "a", "code": "Whim", "reason": "x"}]})"));
  REQUIRE_FALSE(bad_code);
  CHECK(bad_code.error().message.find("rejected[0].code") != std::string::npos);
}

TEST_CASE("cluster capacity counts free GPUs by model and by block size", "[placement][capacity]") {
  NodeSnapshot quarantined = gpu_node("q");
  quarantined.admission = model::Admission::kQuarantined;
  const ClusterSnapshot c = cluster(
      "a", {gpu_node("n0", 8, 0), gpu_node("n1", 8, 5), gpu_node("l4", 8, 2, kL4), quarantined, cpu_node("cpu")});
  const nlohmann::json j = cluster_capacity_json(c);
  CHECK(j.at("gpus") == nlohmann::json::parse(R"({"total": 24, "free": 17, "largestFreeBlock": 8})"));
  CHECK(j.at("nodes") == nlohmann::json::parse(R"({"total": 5, "gpuNodes": 4, "available": 3})"));
  const nlohmann::json& h100 = j.at("models").at(0);
  CHECK(h100.at("model") == kH100);
  CHECK(h100.at("free") == 11);
  CHECK(h100.at("replicasThatFit") == nlohmann::json::parse(R"({"1": 11, "2": 5, "4": 2, "8": 1})"));
  CHECK(j.at("models").at(1).at("replicasThatFit") == nlohmann::json::parse(R"({"1": 6, "2": 3, "4": 1, "8": 0})"));
}

}  // namespace fleet::placement
