#pragma once
// What the re-placement tests (issue #15 item 1) share: a two-cluster GPU fleet whose clusters a test can tell
// apart by label, and a workload's moves read back from its events.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agents/fleet_spec.hpp"
#include "integration-tests/fleetd_process.hpp"

namespace fleet::itest {

// A workload of `replicas` one-GPU replicas placed PickN 1, whose manifest is one Deployment of that name.
nlohmann::json one_gpu_workload(const std::string& name, int replicas);

// Two clusters with H100 nodes, labelled slot=a and slot=b, on a fast simulated clock.
agent::FleetSpec slot_fleet(std::uint64_t seed);

// A workload's move from one cluster to another as its events tell it, in order: "superseded" (the old binding
// keeps running), "running" (the new one runs), "removing" (the old one goes), "removed" (its agent deleted it).
struct WorkloadMove {
  std::vector<std::string> steps;
  std::optional<std::chrono::system_clock::time_point> running_at;  // when the new binding was reported running
};
WorkloadMove workload_move(FleetdProcess& fleetd, const std::string& workload, const std::string& from,
                           const std::string& to);

}  // namespace fleet::itest
