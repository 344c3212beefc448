#include "fleetd/store/rollout_store.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <pqxx/pqxx>
#include <set>

#include "common/time_format.hpp"
#include "fleetd/db/lock_keys.hpp"
#include "fleetd/store/command_store.hpp"
#include "fleetd/store/drain_hold_store.hpp"
#include "model/version.hpp"
#include "protocol/command_payloads.hpp"
#include "rollout/strategy_json.hpp"

namespace fleet::store {
namespace {

#define FLEET_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

const std::string kStrategyColumns =
    "name, spec::text, created_by, resource_version, " FLEET_RFC3339("created_at") ", " FLEET_RFC3339("updated_at");
// A run's columns; the plan (every member's steps) last and only when asked for (PlanRead).
const std::string kRolloutColumns = "name, seq, spec::text, status::text, created_by, resource_version, " FLEET_RFC3339(
    "created_at") ", " FLEET_RFC3339("updated_at") ", estimate_seconds";
std::string rollout_columns(PlanRead plan) {
  return plan == PlanRead::kWhole ? kRolloutColumns + ", plan::text" : kRolloutColumns;
}
#undef FLEET_RFC3339

constexpr const char* kMembersOfRun =
    "SELECT data::text, estimate_seconds FROM rollout_members WHERE rollout = $1 ORDER BY idx";
constexpr const char* kInsertEvents =
    "INSERT INTO rollout_events (rollout, at, scope, name, from_state, to_state, message) "
    "SELECT $1, x.at::timestamptz, x.scope, x.name, x.\"from\", x.\"to\", x.message "
    "FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (at text, scope text, name text, \"from\" text, \"to\" "
    "text, message text)) WITH ORDINALITY AS x(at, scope, name, \"from\", \"to\", message, n) ORDER BY x.n";
constexpr const char* kDeleteStrategy = "DELETE FROM update_strategies WHERE name = $1";
constexpr const char* kCountStrategies = "SELECT count(*) FROM update_strategies";
constexpr const char* kNextRolloutSeq = "SELECT nextval(pg_get_serial_sequence('rollouts', 'seq'))";
constexpr const char* kInsertRollout =
    "INSERT INTO rollouts (name, seq, spec, plan, state, status, created_by) "
    "VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6::jsonb, $7) ON CONFLICT (name) DO NOTHING RETURNING 1";
constexpr const char* kInsertMembers =
    "INSERT INTO rollout_members (rollout, idx, cluster, cluster_id, state, data, estimate_seconds) "
    "SELECT $1, x.idx, x.cluster, x.cluster_id::uuid, x.state, x.data, x.estimate_seconds FROM "
    "jsonb_to_recordset($2::jsonb) AS x(idx int, cluster text, cluster_id text, state text, data jsonb, "
    "estimate_seconds bigint)";
constexpr const char* kRolloutNameBySeq = "SELECT name FROM rollouts WHERE seq = $1";
constexpr const char* kUpdateRunStatus =
    "UPDATE rollouts SET state = $2, status = $3::jsonb, resource_version = nextval('resource_version_seq'), "
    "updated_at = now() WHERE name = $1 RETURNING resource_version";
constexpr const char* kLockRollout = "SELECT resource_version FROM rollouts WHERE name = $1 FOR UPDATE";
constexpr const char* kUpdateMembers =
    "UPDATE rollout_members m SET state = x.state, data = x.data, updated_at = now() "
    "FROM jsonb_to_recordset($2::jsonb) AS x(idx int, state text, data jsonb) "
    "WHERE m.rollout = $1 AND m.idx = x.idx";
constexpr const char* kDeleteRollout = "DELETE FROM rollouts WHERE name = $1";
constexpr const char* kLockRolloutCreation = "SELECT pg_advisory_xact_lock($1)";
constexpr const char* kCountActiveRollouts =
    "SELECT count(*) FROM rollouts WHERE state IN ('Pending', 'Running', 'Paused')";
constexpr const char* kRolloutExists = "SELECT 1 FROM rollouts WHERE name = $1";
constexpr const char* kRolloutsByState = "SELECT state, count(*) FROM rollouts GROUP BY state";
constexpr const char* kNotifyRollout = "SELECT pg_notify($1, $2)";
constexpr const char* kRunsToExecute =
    "SELECT r.name FROM rollouts r WHERE r.state IN ('Running', 'Paused') OR (r.state = 'Aborted' AND EXISTS "
    "(SELECT 1 FROM rollout_members m WHERE m.rollout = r.name AND m.state IN ('Upgrading', 'Probing'))) "
    "ORDER BY r.seq";
constexpr const char* kListRolloutEvents =
    "SELECT seq, extract(epoch FROM at)::float8, scope, name, from_state, to_state, message FROM rollout_events "
    "WHERE rollout = $1 AND seq > $2 ORDER BY seq LIMIT $3";
constexpr const char* kClustersInActiveRuns =
    "SELECT m.cluster, m.rollout FROM rollout_members m JOIN rollouts r ON r.name = m.rollout "
    "WHERE m.cluster IN (SELECT jsonb_array_elements_text($1::jsonb)) AND m.state IN ('Pending', "
    "'WaitingForWindow', 'Upgrading', 'Probing') AND (r.state IN ('Pending', 'Running', 'Paused') OR m.state IN "
    "('Upgrading', 'Probing')) "
    "ORDER BY m.cluster, r.seq";
constexpr const char* kClusterRows =
    "SELECT id::text, name, provider, region, update_group, labels::text, state, "
    "kubernetes_version FROM clusters ORDER BY name";
constexpr const char* kPoolFacts =
    "SELECT n.cluster_id::text, n.pool, COALESCE(jsonb_agg(DISTINCT n.data->'kubernetesVersion') FILTER (WHERE "
    "jsonb_typeof(n.data->'kubernetesVersion') = 'string'), '[]'::jsonb)::text, min(n.data->>'nodeImageVersion'), "
    "count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM gpus g WHERE g.cluster_id = n.cluster_id AND "
    "g.node_name = n.name)), COALESCE((SELECT jsonb_agg(DISTINCT g.driver_version ORDER BY g.driver_version) FROM "
    "gpus g JOIN nodes n2 ON n2.cluster_id = g.cluster_id AND n2.name = g.node_name WHERE n2.cluster_id = "
    "n.cluster_id AND n2.pool = n.pool), '[]'::jsonb)::text FROM nodes n GROUP BY n.cluster_id, n.pool "
    "ORDER BY n.cluster_id, n.pool";
constexpr const char* kStepHistory =
    "SELECT c.provider, a.kind, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.finished_at - "
    "a.created_at) / CASE WHEN a.kind = 'upgrade_node_pool' THEN greatest(1, COALESCE((a.progress->>'nodesTotal')"
    "::int, 1)) ELSE 1 END) FROM (SELECT * FROM agent_commands WHERE id LIKE 'ro.%' AND state = 'succeeded' AND "
    "finished_at IS NOT NULL ORDER BY seq DESC LIMIT 500) a JOIN clusters c ON c.id = a.cluster_id "
    "GROUP BY c.provider, a.kind";
constexpr const char* kCommandObservations =
    "SELECT id, state, message, fleet_command_probing(progress), "
    "COALESCE(extract(epoch FROM finished_at - created_at), 0)::float8, "
    "COALESCE(progress->>'stopped' = 'true', false), COALESCE(left(progress->>'notBefore', 64), '') "
    "FROM agent_commands WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))";

StrategyRecord strategy_from_row(const pqxx::row& r) {
  StrategyRecord s;
  s.name = r[0].as<std::string>();
  s.spec = nlohmann::json::parse(r[1].as<std::string>());
  s.created_by = r[2].as<std::string>();
  s.resource_version = r[3].as<std::int64_t>();
  s.created_at = r[4].as<std::string>();
  s.updated_at = r[5].as<std::string>();
  return s;
}

// A stored run: its frozen spec, its run-level status and its members. fleetd wrote every part, so a part that
// does not read back is corruption: an exception, the request a 500, the executor's round an error it logs.
StoredRollout rollout_from_row(pqxx::transaction_base& txn, const pqxx::row& r) {
  StoredRollout out;
  auto spec = rollout::frozen_run_spec_from_json(nlohmann::json::parse(r[2].as<std::string>()));
  if (!spec) throw std::runtime_error("stored rollout spec does not read back: " + spec.error().message);
  out.state = rollout::run_skeleton(r[0].as<std::string>(), r[1].as<std::int64_t>(), std::move(spec).value());
  rollout::RunState& st = out.state;
  if (auto s = rollout::run_status_from_json(nlohmann::json::parse(r[3].as<std::string>()), st); !s) {
    throw std::runtime_error(s.error().message);
  }
  out.meta.seq = st.seq;
  out.meta.created_by = r[4].as<std::string>();
  out.meta.resource_version = r[5].as<std::int64_t>();
  out.meta.created_at = r[6].as<std::string>();
  out.meta.updated_at = r[7].as<std::string>();
  out.meta.estimate_seconds = r[8].as<std::int64_t>();
  if (r.size() > 9) out.meta.plan = nlohmann::json::parse(r[9].as<std::string>());
  auto rows = txn.exec_params(kMembersOfRun, st.name);
  st.members.reserve(rows.size());
  out.meta.member_estimates.reserve(rows.size());
  for (const auto& row : rows) {
    auto m = rollout::member_from_json(nlohmann::json::parse(row[0].as<std::string>()));
    if (!m) throw std::runtime_error(m.error().message);
    st.members.push_back(std::move(m).value());
    out.meta.member_estimates.push_back(row[1].as<std::int64_t>());
  }
  return out;
}

void insert_events(pqxx::transaction_base& txn, const std::string& run, const std::vector<rollout::Event>& events) {
  if (events.empty()) return;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& e : events) {
    rows.push_back({{"at", format_rfc3339(e.at)},
                    {"scope", e.scope},
                    {"name", e.name},
                    {"from", e.from},
                    {"to", e.to},
                    {"message", e.message}});
  }
  txn.exec_params(kInsertEvents, run, rows.dump());
}

}  // namespace

std::optional<StrategyRecord> insert_strategy(pqxx::transaction_base& txn, const std::string& name,
                                              const nlohmann::json& spec, const std::string& created_by) {
  auto rows = txn.exec_params(
      "INSERT INTO update_strategies (name, spec, created_by) VALUES ($1, $2::jsonb, $3) "
      "ON CONFLICT (name) DO NOTHING RETURNING " +
          kStrategyColumns,
      name, spec.dump(), created_by);
  if (rows.empty()) return std::nullopt;
  return strategy_from_row(rows[0]);
}

std::optional<StrategyRecord> get_strategy(pqxx::transaction_base& txn, std::string_view name) {
  auto rows =
      txn.exec_params("SELECT " + kStrategyColumns + " FROM update_strategies WHERE name = $1", std::string(name));
  if (rows.empty()) return std::nullopt;
  return strategy_from_row(rows[0]);
}

std::vector<StrategyRecord> list_strategies(pqxx::transaction_base& txn) {
  std::vector<StrategyRecord> out;
  for (const auto& r : txn.exec("SELECT " + kStrategyColumns + " FROM update_strategies ORDER BY name")) {
    out.push_back(strategy_from_row(r));
  }
  return out;
}

bool delete_strategy(pqxx::transaction_base& txn, std::string_view name) {
  return txn.exec_params(kDeleteStrategy, std::string(name)).affected_rows() > 0;
}

std::int64_t count_strategies(pqxx::transaction_base& txn) {
  return txn.exec(kCountStrategies)[0][0].as<std::int64_t>();
}

std::optional<std::int64_t> next_rollout_seq(pqxx::transaction_base& txn) {
  return txn.exec(kNextRolloutSeq)[0][0].as<std::int64_t>();
}

bool insert_rollout(pqxx::transaction_base& txn, const rollout::RunState& state, const nlohmann::json& plan,
                    const std::string& created_by) {
  auto rows = txn.exec_params(kInsertRollout, state.name, state.seq, rollout::to_json(state.spec).dump(), plan.dump(),
                              std::string(rollout::to_string(state.phase)), rollout::run_status_to_json(state).dump(),
                              created_by);
  if (rows.empty()) return false;
  // Each member's estimate from its plan entry, by cluster (a run's clusters are distinct).
  std::map<std::string, std::int64_t, std::less<>> estimates;
  if (const auto it = plan.find("members"); it != plan.end() && it->is_array()) {
    for (const auto& pm : *it) estimates[pm.value("cluster", "")] = pm.value("estimateSeconds", std::int64_t{0});
  }
  nlohmann::json members = nlohmann::json::array();
  for (std::size_t i = 0; i < state.members.size(); ++i) {
    const auto& m = state.members[i];
    const auto estimate = estimates.find(m.cluster);
    members.push_back({{"idx", i},
                       {"cluster", m.cluster},
                       {"cluster_id", m.cluster_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.cluster_id)},
                       {"state", std::string(rollout::to_string(m.phase))},
                       {"data", rollout::member_to_json(m)},
                       {"estimate_seconds", estimate == estimates.end() ? 0 : estimate->second}});
  }
  txn.exec_params(kInsertMembers, state.name, members.dump());
  return true;
}

std::optional<StoredRollout> load_rollout(pqxx::transaction_base& txn, std::string_view name, bool for_update,
                                          PlanRead plan) {
  auto rows = txn.exec_params(
      "SELECT " + rollout_columns(plan) + " FROM rollouts WHERE name = $1" + (for_update ? " FOR UPDATE" : ""),
      std::string(name));
  if (rows.empty()) return std::nullopt;
  return rollout_from_row(txn, rows[0]);
}

std::optional<std::string> rollout_name_by_seq(pqxx::transaction_base& txn, std::int64_t seq) {
  auto rows = txn.exec_params(kRolloutNameBySeq, seq);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

std::optional<std::int64_t> save_decision(pqxx::transaction_base& txn, const rollout::RunState& state,
                                          const rollout::Decision& decision) {
  std::optional<std::int64_t> version;
  if (decision.run_changed || !decision.events.empty() || !decision.changed_members.empty()) {
    version = txn.exec_params(kUpdateRunStatus, state.name, std::string(rollout::to_string(state.phase)),
                              rollout::run_status_to_json(state).dump())[0][0]
                  .as<std::int64_t>();
  }
  if (!decision.changed_members.empty()) {
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t i : decision.changed_members) {
      rows.push_back({{"idx", i},
                      {"state", std::string(rollout::to_string(state.members[i].phase))},
                      {"data", rollout::member_to_json(state.members[i])}});
    }
    txn.exec_params(kUpdateMembers, state.name, rows.dump());
  }
  insert_events(txn, state.name, decision.events);
  // One statement for every command of the decision: a stage start sends a step to each of hundreds of members,
  // and four round trips a command made that transaction 0.1-0.2 s long (issue #12).
  std::vector<NewCommand> commands;
  commands.reserve(decision.commands.size());
  for (const auto& c : decision.commands) {
    const protocol::CommandPayload& p = c.payload;
    // The member's cluster as it was at creation: a cluster re-created under the same name is not this member, and
    // is sent nothing (the next round sees the cluster gone and skips the member).
    commands.push_back(
        {c.cluster, c.id, std::string(protocol::to_string(protocol::kind_of(p))), protocol::to_json(p), c.cluster_id});
  }
  enqueue_commands(txn, commands, "rollout/" + state.name);
  return version;
}

std::optional<std::int64_t> lock_rollout(pqxx::transaction_base& txn, std::string_view name) {
  auto rows = txn.exec_params(kLockRollout, std::string(name));
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::int64_t>();
}

bool delete_rollout(pqxx::transaction_base& txn, std::string_view name) {
  return txn.exec_params(kDeleteRollout, std::string(name)).affected_rows() > 0;
}

RolloutPage list_rollouts(pqxx::transaction_base& txn, std::int64_t before_seq, int limit) {
  RolloutPage page;
  auto rows = txn.exec_params("SELECT " + rollout_columns(PlanRead::kEstimates) +
                                  " FROM rollouts WHERE ($1 = 0 OR seq < $1) ORDER BY seq DESC LIMIT $2",
                              before_seq, limit + 1);
  for (std::size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    page.items.push_back(rollout_from_row(txn, rows[i]));
  }
  if (static_cast<int>(rows.size()) > limit) page.next_before_seq = page.items.back().meta.seq;
  return page;
}

void lock_rollout_creation(pqxx::transaction_base& txn) {
  txn.exec_params(kLockRolloutCreation, lock_keys::kRolloutCreate);
}

std::int64_t count_active_rollouts(pqxx::transaction_base& txn) {
  return txn.exec(kCountActiveRollouts)[0][0].as<std::int64_t>();
}

bool rollout_exists(pqxx::transaction_base& txn, std::string_view name) {
  return !txn.exec_params(kRolloutExists, std::string(name)).empty();
}

std::map<std::string, std::int64_t> rollouts_by_state(pqxx::transaction_base& txn) {
  std::map<std::string, std::int64_t> out;
  for (const auto& r : txn.exec(kRolloutsByState)) {
    out[r[0].as<std::string>()] = r[1].as<std::int64_t>();
  }
  return out;
}

void notify_rollout(pqxx::transaction_base& txn, std::int64_t seq) {
  txn.exec_params(kNotifyRollout, kRolloutChannel, std::to_string(seq));
}

std::vector<std::string> runs_to_execute(pqxx::transaction_base& txn) {
  std::vector<std::string> out;
  for (const auto& r : txn.exec(kRunsToExecute)) {
    out.push_back(r[0].as<std::string>());
  }
  return out;
}

std::vector<EventRow> list_rollout_events(pqxx::transaction_base& txn, std::string_view name, std::int64_t after_seq,
                                          int limit) {
  std::vector<EventRow> out;
  auto rows = txn.exec_params(kListRolloutEvents, std::string(name), after_seq, limit);
  for (const auto& r : rows) {
    EventRow e;
    e.seq = r[0].as<std::int64_t>();
    e.event.at = rollout::TimePoint(
        std::chrono::duration_cast<rollout::TimePoint::duration>(std::chrono::duration<double>(r[1].as<double>())));
    e.event.scope = r[2].as<std::string>();
    e.event.name = r[3].as<std::string>();
    e.event.from = r[4].as<std::string>();
    e.event.to = r[5].as<std::string>();
    e.event.message = r[6].as<std::string>();
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> clusters_in_active_runs(pqxx::transaction_base& txn,
                                                                         const std::vector<std::string>& clusters) {
  std::vector<std::pair<std::string, std::string>> out;
  if (clusters.empty()) return out;
  auto rows = txn.exec_params(kClustersInActiveRuns, nlohmann::json(clusters).dump());
  for (const auto& r : rows) out.emplace_back(r[0].as<std::string>(), r[1].as<std::string>());
  return out;
}

std::vector<rollout::ClusterFacts> cluster_facts(pqxx::transaction_base& txn) {
  std::vector<rollout::ClusterFacts> out;
  std::map<std::string, std::size_t> by_id;
  for (const auto& r : txn.exec(kClusterRows)) {
    rollout::ClusterFacts c;
    c.id = r[0].as<std::string>();
    c.name = r[1].as<std::string>();
    c.provider = r[2].as<std::string>();
    c.region = r[3].as<std::string>();
    c.update_group = r[4].as<std::string>();
    const auto labels = nlohmann::json::parse(r[5].as<std::string>());
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      if (it->is_string()) c.labels[it.key()] = it->get<std::string>();
    }
    auto power = c.labels.find(rollout::kPowerStateLabel);
    c.stopped = power != c.labels.end() && (power->second == "stopped" || power->second == "Stopped");
    c.state = r[6].as<std::string>();
    c.kubernetes_version = r[7].as<std::string>();
    by_id[c.id] = out.size();
    out.push_back(std::move(c));
  }
  // Per pool: the oldest kubelet (compared as versions: "1.31.9" is older than "1.31.10", and a pool whose nodes
  // differ by a patch must not look done) and image (text order is good enough for images of one line), node
  // counts, and the GPU drivers in use.
  auto pools = txn.exec(kPoolFacts);
  for (const auto& r : pools) {
    auto it = by_id.find(r[0].as<std::string>());
    if (it == by_id.end()) continue;
    rollout::PoolFacts p;
    p.name = r[1].as<std::string>();
    p.kubernetes_version =
        model::oldest_reported(nlohmann::json::parse(r[2].as<std::string>()).get<std::vector<std::string>>());
    p.node_image_version = r[3].is_null() ? "" : r[3].as<std::string>();
    p.nodes = r[4].as<int>();
    p.gpu_nodes = r[5].as<int>();
    const auto drivers = nlohmann::json::parse(r[6].as<std::string>());
    for (const auto& d : drivers) p.gpu_driver_versions.push_back(d.get<std::string>());
    out[it->second].pools.push_back(std::move(p));
  }
  return out;
}

rollout::StepHistory step_history(pqxx::transaction_base& txn) {
  rollout::StepHistory h;
  // The last 500 finished rollout commands that succeeded: queue to finish, per control-plane hop and per node.
  auto rows = txn.exec(kStepHistory);
  for (const auto& r : rows) {
    auto& d = h.by_provider[r[0].as<std::string>()];
    const auto seconds = rollout::Seconds(std::lround(r[2].as<double>()));
    if (r[1].as<std::string>() == "upgrade_control_plane") {
      d.control_plane = seconds;
    } else {
      d.per_node = seconds;
    }
    d.measured = true;
  }
  return h;
}

// The node pools the run has still to drain (a node-pool step not yet done of a member not final) whose drain
// would break a workload's disruption budget now (issue #15 item 1).
void observe_drain_holds(pqxx::transaction_base& txn, const rollout::RunState& state, rollout::Observations& obs) {
  std::set<std::pair<std::string, std::string>> pools;
  std::set<std::string> clusters;
  for (const rollout::MemberState& m : state.members) {
    if (rollout::is_final(m.phase)) continue;
    for (std::size_t k = m.step; k < m.steps.size(); ++k) {
      if (m.steps[k].kind != rollout::StepKind::kNodePool) continue;
      pools.emplace(m.cluster, m.steps[k].pool);
      clusters.insert(m.cluster);
    }
  }
  if (pools.empty()) return;
  const std::vector<placement::BudgetedWorkload> workloads = budgeted_workloads(txn, clusters);
  if (workloads.empty()) return;
  for (const auto& [cluster, pool] : pools) {
    if (auto why = placement::drain_hold(workloads, cluster, pool)) obs.drain_holds[cluster + "/" + pool] = *why;
  }
}

rollout::Observations observe(pqxx::transaction_base& txn, const rollout::RunState& state) {
  rollout::Observations obs;
  nlohmann::json ids = nlohmann::json::array();
  nlohmann::json names = nlohmann::json::array();
  for (std::size_t i = 0; i < state.members.size(); ++i) {
    const auto& m = state.members[i];
    names.push_back(m.cluster);
    if (rollout::in_flight(m.phase) && m.step < m.steps.size()) {
      ids.push_back(rollout::member_command_id(state, i));
    }
  }
  if (!ids.empty()) {
    auto rows = txn.exec_params(kCommandObservations, ids.dump());
    for (const auto& r : rows) {
      rollout::CommandObservation c;
      const std::string st = r[1].as<std::string>();
      c.final = st == "succeeded" || st == "failed";
      c.succeeded = st == "succeeded";
      c.message = r[2].as<std::string>();
      c.probing = r[3].as<bool>();
      c.seconds = r[4].as<double>();
      c.stopped = r[5].as<bool>();
      c.not_before = parse_timestamp(r[6].as<std::string>());  // an agent's word: unparseable reads as absent
      obs.commands.emplace(r[0].as<std::string>(), std::move(c));
    }
  }
  bool health_gates = false;
  for (const auto& ref : rollout::all_gates(state.spec.strategy)) {
    health_gates |= ref.gate->type == rollout::GateType::kHealthCheck;
  }
  const std::string gpu_columns =
      health_gates ? ", (SELECT count(*) FROM nodes n WHERE n.cluster_id = c.id AND EXISTS (SELECT 1 FROM gpus g WHERE "
                     "g.cluster_id = n.cluster_id AND g.node_name = n.name)), (SELECT count(*) FROM nodes n WHERE "
                     "n.cluster_id = c.id AND n.admission = 'admitted' AND EXISTS (SELECT 1 FROM gpus g WHERE "
                     "g.cluster_id = n.cluster_id AND g.node_name = n.name))"
                   : ", 0, 0";
  auto rows = txn.exec_params("SELECT c.name, c.id::text, c.state" + gpu_columns +
                                  " FROM clusters c WHERE c.name IN (SELECT jsonb_array_elements_text($1::jsonb))",
                              names.dump());
  for (const auto& r : rows) {
    rollout::ClusterObservation c;
    c.exists = true;
    c.id = r[1].as<std::string>();
    c.state = r[2].as<std::string>();
    c.gpu_nodes = r[3].as<int>();
    c.admitted_gpu_nodes = r[4].as<int>();
    obs.clusters.emplace(r[0].as<std::string>(), std::move(c));
  }
  observe_drain_holds(txn, state, obs);
  return obs;
}

}  // namespace fleet::store
