// The read-back of applied workloads (issue #15 item 4), pure part: listed objects → one status per workload, and
// what changed since the last read.
#include <catch2/catch.hpp>

#include "agents/kube/workload_follower.hpp"

namespace fleet::agent::kube {

using nlohmann::json;
using protocol::WorkloadReadiness;
using protocol::WorkloadStatus;

namespace {

json labelled(const std::string& kind, const std::string& name, const std::string& workload,
              const std::string& generation) {
  return {{"kind", kind},
          {"metadata",
           {{"name", name},
            {"namespace", "serving"},
            {"generation", 1},
            {"labels", {{"fleet.io/workload", workload}, {"fleet.io/generation", generation}}}}}};
}

json ready_deployment(const std::string& name, const std::string& workload, const std::string& generation) {
  json d = labelled("Deployment", name, workload, generation);
  d["spec"] = {{"replicas", 2}};
  d["status"] = {{"observedGeneration", 1},
                 {"replicas", 2},
                 {"updatedReplicas", 2},
                 {"readyReplicas", 2},
                 {"availableReplicas", 2}};
  return d;
}

}  // namespace

TEST_CASE("workload follower: objects grouped by workload with the lowest generation and the worst state", "[kube]") {
  json slow = ready_deployment("llama-router", "llama", "4");
  slow["status"]["availableReplicas"] = 1;
  const std::vector<json> objects = {ready_deployment("llama", "llama", "5"), slow,
                                     ready_deployment("mistral", "mistral", "2")};
  const WorkloadStatuses statuses = workload_statuses(objects);
  REQUIRE(statuses.size() == 2);
  const WorkloadStatus& llama = statuses.at("llama");
  CHECK(llama.generation == 4);
  CHECK(llama.state == WorkloadReadiness::kProgressing);
  CHECK_THAT(llama.message, Catch::StartsWith("Deployment serving/llama-router: "));
  CHECK(statuses.at("mistral") == WorkloadStatus{"mistral", 2, WorkloadReadiness::kReady, ""});
}

TEST_CASE("workload follower: objects without a valid workload or generation label are not reported", "[kube]") {
  const std::vector<json> objects = {ready_deployment("a", "Not_A_Name", "1"),
                                     ready_deployment("b", "b", "0"),
                                     ready_deployment("c", "c", "x1"),
                                     ready_deployment("d", "d", ""),
                                     json::array(),
                                     json{{"kind", "Deployment"}, {"metadata", "oops"}}};
  CHECK(workload_statuses(objects).empty());
}

TEST_CASE("workload follower: only changes are sent and a vanished workload is reported once", "[kube]") {
  const WorkloadStatuses first = workload_statuses({ready_deployment("llama", "llama", "3")});
  auto changes = status_changes({}, first);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].state == WorkloadReadiness::kReady);
  CHECK(status_changes(first, first).empty());

  WorkloadStatuses second = first;
  second["llama"].generation = 4;
  changes = status_changes(first, second);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].generation == 4);

  changes = status_changes(second, {});
  REQUIRE(changes.size() == 1);
  CHECK(changes[0] ==
        WorkloadStatus{"llama", 4, WorkloadReadiness::kProgressing, "no objects of the workload found on the cluster"});
  CHECK(status_changes({}, {}).empty());
}

}  // namespace fleet::agent::kube
