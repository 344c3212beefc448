#include "integration-tests/fleet_sim_process.hpp"

#include <fstream>
#include <thread>

namespace fleet::itest {

std::filesystem::path fleet_sim_log(const std::filesystem::path& dir) {
  return dir / "fleet-sim.log";
}

std::filesystem::path fleet_sim_state(const std::filesystem::path& dir) {
  return dir / "sim-state.json";
}

std::unique_ptr<ChildProcess> start_fleet_sim(const FleetdProcess& fleetd, const std::filesystem::path& dir,
                                              const std::vector<std::string>& args) {
  std::vector<std::string> argv = {FLEET_SIM_BINARY,
                                   "--server",
                                   fleetd.base_url(),
                                   "--heartbeat-interval",
                                   "1",
                                   "--state-file",
                                   fleet_sim_state(dir).string(),
                                   "--stats-interval",
                                   "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<ChildProcess>(argv, fleet_sim_log(dir).string(),
                                        std::map<std::string, std::string>{{"FLEET_SIM_TOKEN", fleetd.admin_token()}});
}

std::unique_ptr<ChildProcess> start_fleet_sim(const FleetdProcess& fleetd, const std::filesystem::path& dir,
                                              const agent::FleetSpec& spec, const std::vector<std::string>& args) {
  const auto spec_path = dir / "fleet.json";
  std::ofstream(spec_path) << agent::to_json(spec).dump();
  std::vector<std::string> all = {"--spec", spec_path.string()};
  all.insert(all.end(), args.begin(), args.end());
  return start_fleet_sim(fleetd, dir, all);
}

bool wait_for_ready_clusters(FleetdProcess& fleetd, int count, const std::string& kubernetes_version,
                             std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int ready = 0;
    for (const auto& c : fleetd.list_all("/v1/clusters?limit=1000")) {
      ready += c.value("state", "") == "ready" &&
               (kubernetes_version.empty() || c.value("kubernetesVersion", "") == kubernetes_version);
    }
    if (ready >= count) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace fleet::itest
