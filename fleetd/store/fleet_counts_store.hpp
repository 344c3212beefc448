#pragma once
// Fleet-wide counts for /metrics (issues #11, #16), read in one transaction by loops/fleet_gauges: GPU nodes by
// admission state, clusters by state and provider, and the command queue's open commands by state and kind
// (queued, leased, running; finished ones are history, and their count would only grow).
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

struct FleetCounts {
  std::map<std::string, std::int64_t> gpu_nodes_by_admission;
  std::map<std::pair<std::string, std::string>, std::int64_t> clusters;       // (state, provider) → clusters
  std::map<std::pair<std::string, std::string>, std::int64_t> open_commands;  // (state, kind) → commands
};

FleetCounts read_fleet_counts(pqxx::transaction_base& txn);

}  // namespace fleet::store
