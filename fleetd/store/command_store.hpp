#pragma once
// The agent command queue in PostgreSQL (migrations/0004_agent_commands.sql). A command is queued, leased to its
// cluster's agent for a while, reported running and finally succeeded or failed. A lease that passes returns it
// to the queue. Functions run inside the caller's transaction; enqueue_command also NOTIFYs `fleet_commands` with
// the cluster name, so a long-polling agent (on any replica) wakes when the transaction commits.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace pqxx {
class transaction_base;
class connection_base;
}  // namespace pqxx

namespace fleet::store {

// The channel a committed enqueue or a lease expiry notifies, with the cluster name as the payload.
inline constexpr const char* kCommandChannel = "fleet_commands";

struct Command {
  std::string id;
  std::string cluster;
  std::string kind;
  nlohmann::json payload = nlohmann::json::object();
  std::string state;  // queued | leased | running | succeeded | failed
  int attempts = 0;
  std::optional<std::string> lease_until;  // RFC 3339 UTC
  std::string message;
  nlohmann::json progress;  // null until the agent reports one
  std::string created_by;
  std::string created_at, updated_at;
  std::optional<std::string> finished_at;
  std::int64_t resource_version = 0;
  std::int64_t seq = 0;  // creation order
};

bool is_final_state(std::string_view state);

struct EnqueueResult {
  enum class Outcome { kCreated, kExisting, kConflict, kNoCluster };
  Outcome outcome = Outcome::kNoCluster;
  std::optional<Command> command;  // the new one, or the existing one of that id (kExisting, kConflict)
};
// Inserts a queued command and notifies its cluster's agent. `id` empty → a generated uuid. The same id again
// with the same cluster, kind and payload is kExisting (nothing written); with anything else, kConflict.
EnqueueResult enqueue_command(pqxx::transaction_base& txn, std::string_view cluster, std::string_view id,
                              std::string_view kind, const nlohmann::json& payload, std::string_view created_by);

// Many commands in one statement (the placement loop writes one per binding of a decision, a hundred for a PickN
// 100): each cluster's row is key-share locked and its agent notified as by enqueue_command. A command whose id
// exists is left as it is, and one for a cluster that does not exist (or, with cluster_id, is no longer that
// cluster) is not written. Returns how many were inserted.
struct NewCommand {
  std::string cluster;
  std::string id;
  std::string kind;
  nlohmann::json payload;
  std::string cluster_id;  // when set: the cluster's id, so that a cluster re-created under the name is not sent it
};
int enqueue_commands(pqxx::transaction_base& txn, const std::vector<NewCommand>& commands, std::string_view created_by);

// Leases up to `limit` of each cluster's queued commands (and those whose lease passed, while they have attempts
// left) to its agent, oldest first: state leased, attempts + 1, lease_until = now + lease. One statement for many
// clusters, each (cluster, limit) at most once; what each was leased, by cluster, in creation order (clusters with
// nothing claimable are absent).
std::map<std::string, std::vector<Command>, std::less<>> claim_commands(
    pqxx::transaction_base& txn, const std::vector<std::pair<std::string, int>>& clusters, std::chrono::seconds lease,
    int max_attempts);

std::optional<Command> get_command(pqxx::transaction_base& txn, std::string_view id);

struct Report {
  std::string state;  // running | succeeded | failed
  std::optional<std::string> message;
  std::optional<nlohmann::json> progress;
};
struct ReportResult {
  std::optional<Command> command;  // nullopt: no such command for this cluster
  bool duplicate = false;          // it was already final: nothing written
  std::string previous_state;
};
// Applies agents' reports, each to a command of its cluster, in one statement (the commands row-locked in id
// order): running → running with a fresh lease; succeeded/failed → final. A command already final is returned
// unchanged with duplicate = true. The results are in the order of `reports`; each command id at most once.
struct ReportOf {
  std::string cluster;
  std::string id;
  Report report;
};
std::vector<ReportResult> report_commands(pqxx::transaction_base& txn, const std::vector<ReportOf>& reports,
                                          std::chrono::seconds lease);

struct CommandListQuery {
  std::string cluster;
  std::string state;            // empty = any
  std::int64_t before_seq = 0;  // keyset: seq strictly below this when > 0 (newest first)
  int limit = 100;
};
struct CommandListPage {
  std::vector<Command> items;
  bool more = false;
};
// nullopt when the cluster does not exist.
std::optional<CommandListPage> list_commands(pqxx::transaction_base& txn, const CommandListQuery& query);

struct ExpiredLease {
  std::string id, cluster, state;  // state after the sweep: queued or failed
  int attempts = 0;
};
// Returns every leased or running command whose lease passed to the queue, or fails it once it has been
// delivered max_attempts times; notifies the clusters whose commands were requeued. Skips rows locked by a
// concurrent report.
std::vector<ExpiredLease> sweep_expired_leases(pqxx::transaction_base& txn, int max_attempts);

}  // namespace fleet::store
