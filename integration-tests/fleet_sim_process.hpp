#pragma once
// fleet-sim against a test's fleetd, started the way every fleet test starts it.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agents/fleet_spec.hpp"
#include "integration-tests/child_process.hpp"
#include "integration-tests/fleetd_process.hpp"

namespace fleet::itest {

// The admin token travels in FLEET_SIM_TOKEN (as operators are told to pass it, and without fleet-sim's warning
// about a secret on the command line); 1 s heartbeats, no stats lines; the state file `dir`/sim-state.json and the
// log `dir`/fleet-sim.log (fleet_sim_log). `args` says which fleet: `--spec FILE`, or `--clusters N --seed S …`,
// and anything else a test needs.
std::unique_ptr<ChildProcess> start_fleet_sim(const FleetdProcess& fleetd, const std::filesystem::path& dir,
                                              const std::vector<std::string>& args);
// The same, for a generated or edited fleet: writes `spec` to `dir`/fleet.json and passes `--spec` with it.
std::unique_ptr<ChildProcess> start_fleet_sim(const FleetdProcess& fleetd, const std::filesystem::path& dir,
                                              const agent::FleetSpec& spec, const std::vector<std::string>& args = {});
// Waits until `count` clusters are ready, and when `kubernetes_version` is given, report it (their inventory is
// stored); false after `timeout`.
bool wait_for_ready_clusters(FleetdProcess& fleetd, int count, const std::string& kubernetes_version = "",
                             std::chrono::seconds timeout = std::chrono::seconds(120));
std::filesystem::path fleet_sim_log(const std::filesystem::path& dir);
std::filesystem::path fleet_sim_state(const std::filesystem::path& dir);

}  // namespace fleet::itest
