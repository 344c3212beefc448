#include "integration-tests/fleet_sim_process.hpp"

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

}  // namespace fleet::itest
