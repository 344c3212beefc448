#include "fleetd/store/command_store.hpp"

#include <algorithm>
#include <pqxx/pqxx>
#include <set>

#include "fleetd/store/prepared_statement.hpp"

namespace fleet::store {
namespace {

// RFC 3339 UTC with milliseconds, whatever the session's TimeZone; NULL stays NULL.
#define FLEET_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
constexpr const char* kColumns =
    "a.id, c.name, a.kind, a.payload::text, a.state, a.attempts, " FLEET_TS("a.lease_until") ", a.message, "
    "a.progress::text, a.created_by, " FLEET_TS("a.created_at") ", " FLEET_TS("a.updated_at") ", " FLEET_TS(
        "a.finished_at") ", a.resource_version, a.seq";
#undef FLEET_TS

// Key-share lock: a concurrent delete of the cluster waits for this insert; heartbeats (non-key updates) do not.
constexpr const char* kLockCluster = "SELECT id::text FROM clusters WHERE name = $1 FOR KEY SHARE";
const std::string kInsert = std::string(
                                "WITH ins AS (INSERT INTO agent_commands (id, cluster_id, kind, payload, created_by) "
                                "VALUES (CASE WHEN $1 = '' THEN gen_random_uuid()::text ELSE $1 END, $2::uuid, $3, "
                                "$4::jsonb, $5) ON CONFLICT (id) DO NOTHING RETURNING *) "
                                "SELECT ") +
                            kColumns + " FROM ins a JOIN clusters c ON c.id = a.cluster_id";
// jsonb equality ignores key order and whitespace: a retried create with a re-serialized payload still matches.
const std::string kExisting = std::string("SELECT ") + kColumns +
                              ", (c.name = $2 AND a.kind = $3 AND a.payload = $4::jsonb) "
                              "FROM agent_commands a JOIN clusters c ON c.id = a.cluster_id WHERE a.id = $1";
constexpr const char* kNotify = "SELECT pg_notify($1, $2)";
// enqueue_commands: $1 a JSON array of {cluster, clusterId (or ""), id, kind, payload}. The inserts and the
// notifications of the clusters that got one are one statement (a notification is sent at commit, once per cluster and
// channel).
constexpr const char* kInsertMany =
    "WITH input AS (SELECT x->>'cluster' AS cluster, NULLIF(x->>'clusterId', '')::uuid AS cluster_id, "
    "x->>'id' AS id, x->>'kind' AS kind, x->'payload' AS payload FROM jsonb_array_elements($1::jsonb) x), "
    "locked AS (SELECT c.id, c.name FROM clusters c WHERE c.name IN (SELECT cluster FROM input) FOR KEY SHARE), "
    "ins AS (INSERT INTO agent_commands (id, cluster_id, kind, payload, created_by) "
    "SELECT i.id, l.id, i.kind, i.payload, $2 FROM input i JOIN locked l ON l.name = i.cluster "
    "AND (i.cluster_id IS NULL OR l.id = i.cluster_id) "
    "ON CONFLICT (id) DO NOTHING RETURNING cluster_id) "
    "SELECT (SELECT count(*) FROM ins), "
    "(SELECT count(pg_notify($3, l.name)) FROM locked l WHERE l.id IN (SELECT cluster_id FROM ins))";
const std::string kGet =
    std::string("SELECT ") + kColumns + " FROM agent_commands a JOIN clusters c ON c.id = a.cluster_id WHERE a.id = $1";
// A claim for many clusters, each with its own limit: the claimable commands ranked per cluster, oldest first, then
// locked. The lock re-checks the state on the row as it is then (a concurrent claim may have leased it). SKIP
// LOCKED: two polls of one cluster (an agent retrying on a fresh connection) never lease one command twice and
// never wait for each other. A command whose lease passed is taken here too, so re-delivery does not depend on the
// sweeper having run.
// Claimable: queued, or leased with a lease that passed while attempts are left ($3: the most attempts).
#define FLEET_CLAIMABLE \
  "(a.state = 'queued' OR (a.state IN ('leased', 'running') AND a.lease_until < now() AND a.attempts < $3))"
const std::string kClaim =
    std::string(
        "WITH want AS (SELECT x.cluster, x.lim FROM jsonb_to_recordset($1::jsonb) AS x(cluster text, lim int)), "
        "ranked AS (SELECT a.id, w.lim, row_number() OVER (PARTITION BY a.cluster_id ORDER BY a.seq) AS n "
        "FROM agent_commands a JOIN clusters c ON c.id = a.cluster_id JOIN want w ON w.cluster = c.name "
        "WHERE " FLEET_CLAIMABLE
        "), "
        "picked AS (SELECT a.id FROM agent_commands a JOIN ranked r ON r.id = a.id WHERE r.n <= r.lim "
        "AND " FLEET_CLAIMABLE
        " FOR UPDATE OF a SKIP LOCKED) "
        "UPDATE agent_commands a SET state = 'leased', attempts = a.attempts + 1, "
        "lease_until = now() + make_interval(secs => $2), updated_at = now(), "
        "resource_version = nextval('resource_version_seq') "
        "FROM picked, clusters c WHERE a.id = picked.id AND c.id = a.cluster_id RETURNING ") +
    kColumns;
#undef FLEET_CLAIMABLE
// report_commands: $1 a JSON array of {n, id, cluster, state, hasMessage, message, hasProgress, progress}, each id
// at most once; $2 the lease in seconds. The commands are locked in id order (two batches reporting the same commands
// never deadlock); a command already final is left as it is and returned as locked: the lock, not the statement's
// snapshot, sees a report of the same command that committed while this one waited for it. Each row ends with the
// input's n and the state before the report.
const std::string kReportMany =
    std::string(
        "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(n int, id text, cluster text, state text, "
        "\"hasMessage\" boolean, message text, \"hasProgress\" boolean, progress jsonb)), "
        "locked AS (SELECT a.*, a.state AS previous FROM agent_commands a JOIN clusters c ON c.id = a.cluster_id "
        "JOIN input i ON i.id = a.id AND i.cluster = c.name ORDER BY a.id FOR UPDATE OF a), "
        "updated AS (UPDATE agent_commands a SET state = i.state, "
        "lease_until = CASE WHEN i.state = 'running' THEN now() + make_interval(secs => $2) END, "
        "finished_at = CASE WHEN i.state = 'running' THEN NULL ELSE now() END, "
        "message = CASE WHEN i.\"hasMessage\" THEN i.message ELSE a.message END, "
        "progress = CASE WHEN i.\"hasProgress\" THEN i.progress ELSE a.progress END, "
        "updated_at = now(), resource_version = nextval('resource_version_seq') "
        "FROM input i JOIN locked l ON l.id = i.id "
        "WHERE a.id = i.id AND l.previous NOT IN ('succeeded', 'failed') RETURNING a.*) "
        "SELECT ") +
    kColumns +
    ", i.n, l.previous FROM updated a JOIN clusters c ON c.id = a.cluster_id JOIN locked l ON l.id = a.id "
    "JOIN input i ON i.id = a.id UNION ALL SELECT " +
    kColumns +
    ", i.n, a.previous FROM locked a JOIN clusters c ON c.id = a.cluster_id JOIN input i ON i.id = a.id "
    "WHERE a.previous IN ('succeeded', 'failed')";
constexpr const char* kClusterExists = "SELECT 1 FROM clusters WHERE name = $1";
// Fetches limit+1 rows: the extra one only says whether another page exists.
const std::string kList = std::string("SELECT ") + kColumns +
                          " FROM agent_commands a JOIN clusters c ON c.id = a.cluster_id WHERE c.name = $1 "
                          "AND ($2 = '' OR a.state = $2) AND ($3::bigint = 0 OR a.seq < $3::bigint) "
                          "ORDER BY a.seq DESC LIMIT $4";
// Bounded per sweep so one transaction never grows with a backlog; the next tick takes the rest.
constexpr const char* kSweep =
    "WITH expired AS (SELECT id FROM agent_commands WHERE state IN ('leased', 'running') AND lease_until < now() "
    "ORDER BY lease_until LIMIT 1000 FOR UPDATE SKIP LOCKED) "
    "UPDATE agent_commands a SET "
    "state = CASE WHEN a.attempts >= $1 THEN 'failed' ELSE 'queued' END, lease_until = NULL, "
    "finished_at = CASE WHEN a.attempts >= $1 THEN now() END, "
    "message = CASE WHEN a.attempts >= $1 THEN 'lease expired ' || a.attempts || ' times' ELSE a.message END, "
    "updated_at = now(), resource_version = nextval('resource_version_seq') "
    "FROM expired, clusters c WHERE a.id = expired.id AND c.id = a.cluster_id "
    "RETURNING a.id, c.name, a.state, a.attempts";

std::optional<std::string> opt_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str());
}

Command row_to_command(const pqxx::row& r) {
  Command c;
  c.id = r[0].c_str();
  c.cluster = r[1].c_str();
  c.kind = r[2].c_str();
  c.payload = nlohmann::json::parse(r[3].c_str());
  c.state = r[4].c_str();
  c.attempts = r[5].as<int>();
  c.lease_until = opt_text(r[6]);
  c.message = r[7].c_str();
  c.progress = r[8].is_null() ? nlohmann::json() : nlohmann::json::parse(r[8].c_str());
  c.created_by = r[9].c_str();
  c.created_at = r[10].c_str();
  c.updated_at = r[11].c_str();
  c.finished_at = opt_text(r[12]);
  c.resource_version = r[13].as<std::int64_t>();
  c.seq = r[14].as<std::int64_t>();
  return c;
}

}  // namespace

bool is_final_state(std::string_view state) {
  return state == "succeeded" || state == "failed";
}

EnqueueResult enqueue_command(pqxx::transaction_base& txn, std::string_view cluster, std::string_view id,
                              std::string_view kind, const nlohmann::json& payload, std::string_view created_by) {
  EnqueueResult out;
  auto cl = txn.exec_params(kLockCluster, std::string(cluster));
  if (cl.empty()) return out;
  const std::string payload_text = payload.dump();
  auto ins = txn.exec_params(kInsert, std::string(id), std::string(cl[0][0].c_str()), std::string(kind), payload_text,
                             std::string(created_by));
  if (!ins.empty()) {
    out.outcome = EnqueueResult::Outcome::kCreated;
    out.command = row_to_command(ins[0]);
    txn.exec_params(kNotify, std::string(kCommandChannel), std::string(cluster));
    return out;
  }
  // ON CONFLICT waited for a concurrent insert of this id to commit: the row is visible to this new statement.
  auto existing = txn.exec_params(kExisting, std::string(id), std::string(cluster), std::string(kind), payload_text);
  if (existing.empty()) {
    out.outcome = EnqueueResult::Outcome::kConflict;  // inserted and deleted meanwhile (its cluster went away)
    return out;
  }
  out.command = row_to_command(existing[0]);
  out.outcome = existing[0][15].as<bool>() ? EnqueueResult::Outcome::kExisting : EnqueueResult::Outcome::kConflict;
  return out;
}

int enqueue_commands(pqxx::transaction_base& txn, const std::vector<NewCommand>& commands,
                     std::string_view created_by) {
  if (commands.empty()) return 0;
  nlohmann::json input = nlohmann::json::array();
  for (const NewCommand& c : commands) {
    input.push_back(
        {{"cluster", c.cluster}, {"clusterId", c.cluster_id}, {"id", c.id}, {"kind", c.kind}, {"payload", c.payload}});
  }
  const pqxx::row r =
      txn.exec_params1(kInsertMany, input.dump(), std::string(created_by), std::string(kCommandChannel));
  return r[0].as<int>();
}

std::map<std::string, std::vector<Command>, std::less<>> claim_commands(
    pqxx::transaction_base& txn, const std::vector<std::pair<std::string, int>>& clusters, std::chrono::seconds lease,
    int max_attempts) {
  nlohmann::json want = nlohmann::json::array();
  for (const auto& [cluster, limit] : clusters) want.push_back({{"cluster", cluster}, {"lim", limit}});
  std::map<std::string, std::vector<Command>, std::less<>> out;
  for (const auto& r : exec_prepared_statement(txn, "fleet_claim_commands", kClaim, want.dump(),
                                               static_cast<double>(lease.count()), max_attempts)) {
    Command c = row_to_command(r);
    out[c.cluster].push_back(std::move(c));
  }
  // UPDATE … RETURNING has no order: hand them out in creation order.
  for (auto& [cluster, commands] : out) {
    std::sort(commands.begin(), commands.end(), [](const Command& a, const Command& b) { return a.seq < b.seq; });
  }
  return out;
}

std::optional<Command> get_command(pqxx::transaction_base& txn, std::string_view id) {
  auto res = txn.exec_params(kGet, std::string(id));
  if (res.empty()) return std::nullopt;
  return row_to_command(res[0]);
}

std::vector<ReportResult> report_commands(pqxx::transaction_base& txn, const std::vector<ReportOf>& reports,
                                          std::chrono::seconds lease) {
  std::vector<ReportResult> out(reports.size());
  if (reports.empty()) return out;
  nlohmann::json input = nlohmann::json::array();
  for (std::size_t n = 0; n < reports.size(); ++n) {
    const Report& r = reports[n].report;
    input.push_back({{"n", n},
                     {"id", reports[n].id},
                     {"cluster", reports[n].cluster},
                     {"state", r.state},
                     {"hasMessage", r.message.has_value()},
                     {"message", r.message.value_or("")},
                     {"hasProgress", r.progress.has_value()},
                     {"progress", r.progress.value_or(nullptr)}});
  }
  for (const auto& row : exec_prepared_statement(txn, "fleet_report_commands", kReportMany, input.dump(),
                                                 static_cast<double>(lease.count()))) {
    const auto n = row[15].as<std::size_t>();
    if (n >= out.size()) continue;
    ReportResult& result = out[n];
    result.previous_state = row[16].c_str();
    result.duplicate = is_final_state(result.previous_state);
    result.command = row_to_command(row);
  }
  return out;
}

std::optional<CommandListPage> list_commands(pqxx::transaction_base& txn, const CommandListQuery& q) {
  if (txn.exec_params(kClusterExists, q.cluster).empty()) return std::nullopt;
  CommandListPage page;
  for (const auto& r : txn.exec_params(kList, q.cluster, q.state, q.before_seq, q.limit + 1)) {
    if (static_cast<int>(page.items.size()) == q.limit) {
      page.more = true;
      break;
    }
    page.items.push_back(row_to_command(r));
  }
  return page;
}

std::vector<ExpiredLease> sweep_expired_leases(pqxx::transaction_base& txn, int max_attempts) {
  std::vector<ExpiredLease> out;
  std::set<std::string> requeued_clusters;
  for (const auto& r : txn.exec_params(kSweep, max_attempts)) {
    ExpiredLease e{r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].as<int>()};
    if (e.state == "queued") requeued_clusters.insert(e.cluster);
    out.push_back(std::move(e));
  }
  for (const auto& cluster : requeued_clusters) txn.exec_params(kNotify, std::string(kCommandChannel), cluster);
  return out;
}

}  // namespace fleet::store
