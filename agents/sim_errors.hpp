#pragma once
// The errors the sim's command checks return (sim_cluster.cpp, sim_blue_green.cpp, sim_workloads.cpp), written once
// so that every command kind says a busy cluster, a busy node or a missing pool the same way. Internal to
// fleet_agent_core.
#include <string>

#include "common/error.hpp"

namespace fleet::agent {

// kConflict, type command-conflict: what the cluster's state forbids now (another command in flight, a reused id).
inline Error command_conflict(std::string message, std::string field = {}) {
  return make_error(ErrorCode::kConflict, std::move(message), std::move(field), "command-conflict");
}

inline Error cluster_busy(const std::string& command_id) {
  return command_conflict("the cluster is busy with command " + command_id);
}

inline Error node_busy(const std::string& node) {
  return command_conflict("node " + node + " is busy with another command");
}

// kNotFound on `field` (payload.pool, payload.newPool).
inline Error no_pool(const std::string& field, const std::string& pool) {
  return make_error(ErrorCode::kNotFound, field + ": no pool \"" + pool + "\" in this cluster", field, "not-found");
}

}  // namespace fleet::agent
