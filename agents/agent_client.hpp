#pragma once
// The agent's side of the fleetd protocol (DESIGN §5, docs/api.md "Agents"): register with a bootstrap token,
// heartbeat, long-poll commands, report on them. One AgentClient per agent; not thread-safe. Every answer is a
// value: transport failures and 5xx/429 are kUnavailable (retry later), 401 is kUnauthenticated (the credential
// is gone: register again), other 4xx keep their code and carry fleetd's problem detail.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "net/http_client.hpp"
#include "protocol/command_report.hpp"

namespace fleet::agent {

struct AgentIdentity {
  std::string cluster;
  std::string credential;
};

struct RegisterReply {
  AgentIdentity identity;
  std::optional<int> heartbeat_interval_seconds;
};

struct HeartbeatReply {
  bool resync = false;
  std::string reason;
  std::optional<int> heartbeat_interval_seconds;
  // fleetd's hint: false when nothing can be queued for this cluster since its last empty poll. Agents that do
  // not long-poll poll (wait 0) only when it is true.
  bool commands_pending = true;
};

// A command as fleetd delivered it; the runner parses it (protocol::parse_command) before a backend sees it.
struct LeasedCommand {
  std::string id;
  std::string kind;
  nlohmann::json payload = nlohmann::json::object();
  int attempt = 1;
};

struct CommandPoll {
  std::vector<LeasedCommand> commands;
  std::optional<int> lease_seconds;
};

struct AgentClientOptions {
  std::string server;   // https://fleet.example:8443
  std::string ca_file;  // PEM; empty → the system trust store
  std::string agent_version;
  std::chrono::milliseconds request_timeout{15000};  // everything but the long poll
  bool allow_plain_http = false;                     // http:// to a non-loopback fleetd (--insecure-http)
};

class AgentClient {
 public:
  static Result<std::unique_ptr<AgentClient>> create(AgentClientOptions options);

  Result<RegisterReply> register_agent(const std::string& bootstrap_token);
  Result<HeartbeatReply> heartbeat(const AgentIdentity& who, const nlohmann::json& envelope);
  // The admission policy fleetd holds for the cluster (admission/admission_policy_json.hpp's shape, plus
  // "policy": its name or null for the defaults).
  Result<nlohmann::json> admission_policy(const AgentIdentity& who);
  // Answers at once (wait 0): for agents that poll on the heartbeat's commandsPending hint.
  Result<CommandPoll> poll_commands(const AgentIdentity& who, int limit = 10);
  // A long poll held while the agent does other work on its other connection (heartbeats, reports): start_poll()
  // sends it, await_poll() waits for fleetd's answer until `until` and gives std::nullopt while fleetd still holds
  // it. So an agent's own timers (a heartbeat due, a step of its cluster due) cost no request, and no new poll.
  Status start_poll(const AgentIdentity& who, std::chrono::milliseconds wait, int limit = 10);
  std::optional<Result<CommandPoll>> await_poll(std::chrono::steady_clock::time_point until);
  bool holding_poll() const;
  void abandon_poll();  // a poll under a credential that is no longer the agent's
  Status report(const AgentIdentity& who, const protocol::CommandReport& report);

 private:
  AgentClient(AgentClientOptions options, std::unique_ptr<http::Client> quick);
  Result<http::Client*> poll_client();
  Result<nlohmann::json> call(http::Client& client, const std::string& method, const std::string& path,
                              const std::string& credential, const std::string& body);

  AgentClientOptions options_;
  std::unique_ptr<http::Client> quick_;  // heartbeats, reports, registration
  std::unique_ptr<http::Client> poll_;   // long polls: a longer timeout, its own connection; made on first use
  std::string held_poll_path_;           // start_poll()'s, for messages
};

// fleetd's problem+json (or any non-2xx answer) as an Error with the matching code and the server's detail.
Error error_from_status(int status, const std::string& body, const std::string& what);

}  // namespace fleet::agent
