#pragma once
// fleet-sim against a test's fleetd, started the way every fleet test starts it.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "integration-tests/child_process.hpp"
#include "integration-tests/fleetd_process.hpp"

namespace fleet::itest {

// The admin token travels in FLEET_SIM_TOKEN (as operators are told to pass it, and without fleet-sim's warning
// about a secret on the command line); 1 s heartbeats, no stats lines; the state file `dir`/sim-state.json and the
// log `dir`/fleet-sim.log (fleet_sim_log). `args` says which fleet: `--spec FILE`, or `--clusters N --seed S …`,
// and anything else a test needs.
std::unique_ptr<ChildProcess> start_fleet_sim(const FleetdProcess& fleetd, const std::filesystem::path& dir,
                                              const std::vector<std::string>& args);
std::filesystem::path fleet_sim_log(const std::filesystem::path& dir);
std::filesystem::path fleet_sim_state(const std::filesystem::path& dir);

}  // namespace fleet::itest
