#include "integration-tests/workload_moves.hpp"

#include <stdexcept>

#include "common/time_format.hpp"

namespace fleet::itest {

nlohmann::json one_gpu_workload(const std::string& name, int replicas) {
  const nlohmann::json container = {{"name", "main"}, {"image", "serve:1"}};
  return {{"name", name},
          {"replicas", replicas},
          {"resources", {{"gpus", 1}, {"cpu", 1}, {"memoryGiB", 4}}},
          {"policy", {{"type", "PickN"}, {"numberOfClusters", 1}}},
          {"manifests",
           {{{"apiVersion", "apps/v1"},
             {"kind", "Deployment"},
             {"metadata", {{"name", name}}},
             {"spec", {{"template", {{"spec", {{"containers", {container}}}}}}}}}}}};
}

agent::FleetSpec slot_fleet(std::uint64_t seed) {
  auto spec = agent::generate_fleet_spec(2, "h100:8x100%", seed);
  if (!spec) throw std::runtime_error("slot_fleet: " + spec.error().message);
  spec->time_scale = 2000;
  spec->clusters[0].labels["slot"] = "a";
  spec->clusters[1].labels["slot"] = "b";
  return std::move(*spec);
}

WorkloadMove workload_move(FleetdProcess& fleetd, const std::string& workload, const std::string& from,
                           const std::string& to) {
  WorkloadMove move;
  for (const nlohmann::json& e : fleetd.list_all("/v1/workloads/" + workload + "/events")) {
    const std::string type = e.value("type", "");
    const std::string cluster = e.value("cluster", "");
    const std::string message = e.value("message", "");
    if (type == "Unbound" && cluster == from && message.find("keep running here") != std::string::npos) {
      move.steps.push_back("superseded");
    } else if (type == "Running" && cluster == to) {
      move.steps.push_back("running");
      move.running_at = parse_timestamp(e.value("at", ""));
    } else if (type == "Unbound" && cluster == from && message.find("replace them run") != std::string::npos) {
      move.steps.push_back("removing");
    } else if (type == "Removed" && cluster == from) {
      move.steps.push_back("removed");
    }
  }
  return move;
}

}  // namespace fleet::itest
