#pragma once
// What an agent keeps across restarts so that it does not register again: the server it registered with and the
// credential fleetd issued. Written atomically (temp file + rename) with mode 0600, because the credential is a
// secret. fleet-sim keeps one file for all its agents in the same format, under "agents".
#include <map>
#include <optional>
#include <string>

#include "agents/agent_client.hpp"
#include "common/error.hpp"

namespace fleet::agent {

struct AgentState {
  std::string server;
  std::map<std::string, std::string> credentials;  // cluster → credential
};

// nullopt when the file does not exist; an Error when it exists but cannot be read or parsed.
Result<std::optional<AgentState>> load_agent_state(const std::string& path);
Status save_agent_state(const std::string& path, const AgentState& state);

// The file's content with mode 0600, via a temporary file in the same directory and rename().
Status write_private_file(const std::string& path, const std::string& content);

}  // namespace fleet::agent
