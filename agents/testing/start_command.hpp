#pragma once
// Tests start commands the way the agent does: the wire form (id, kind, JSON payload) parsed by protocol/ first,
// then handed to the backend. A payload that does not parse fails here, as it would in the agent.
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "agents/cluster_backend.hpp"
#include "protocol/command.hpp"

namespace fleet::agent::testing {

// `Backend` is a ClusterBackend or a SimCluster (whose start() also takes the simulated time).
template <typename Backend, typename... Now>
Result<StartResult> start_command(Backend& backend, std::string id, std::string_view kind,
                                  const nlohmann::json& payload, Now... now) {
  auto command = protocol::parse_command(std::move(id), kind, payload);
  if (!command) return command.error();
  return backend.start(*command, now...);
}

// For a test that needs the typed command itself (a payload it knows is valid).
inline protocol::Command command_of(std::string id, std::string_view kind, const nlohmann::json& payload) {
  auto c = protocol::parse_command(std::move(id), kind, payload);
  if (!c) throw std::invalid_argument(c.error().message);
  return std::move(*c);
}

}  // namespace fleet::agent::testing
