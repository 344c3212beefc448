#include "fleetd/loops/placement_loop.hpp"

#include <algorithm>

#include <pqxx/pqxx>

#include "common/log.hpp"
#include "fleetd/db/lock_keys.hpp"
#include "fleetd/loops/binding_changes.hpp"
#include "fleetd/loops/binding_overrides.hpp"
#include "fleetd/loops/binding_progress.hpp"
#include "fleetd/loops/placement_events.hpp"
#include "fleetd/loops/workload_manifests.hpp"
#include "fleetd/store/command_store.hpp"
#include "fleetd/store/drain_hold_store.hpp"
#include "fleetd/store/override_store.hpp"
#include "fleetd/store/placement_snapshot.hpp"
#include "fleetd/store/placement_store.hpp"
#include "fleetd/store/workload_event_store.hpp"
#include "placement/decision_json.hpp"
#include "placement/engine.hpp"
#include "placement/hints_json.hpp"
#include "placement/placement_hints.hpp"
#include "placement/workload_json.hpp"

namespace fleet {
namespace {

constexpr const char* kCreatedBy = "placement-loop";
constexpr int kBookkeepingLimit = 5000;
const std::vector<placement::VersionedOverride> kNoOverrides;

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, std::function<void(const std::string&)> on)
      : pqxx::notification_receiver(conn, store::kPlacementChannel), on_(std::move(on)) {}
  void operator()(const std::string& payload, int) override { on_(payload); }

 private:
  std::function<void(const std::string&)> on_;
};

std::string command_id(std::int64_t seq, int revision, std::string_view verb) {
  return "wl." + std::to_string(seq) + "." + std::to_string(revision) + "." + std::string(verb);
}

// The objects delete_workload removes: each manifest's identity only.
nlohmann::json identities(const nlohmann::json& manifests) {
  nlohmann::json out = nlohmann::json::array();
  if (!manifests.is_array()) return out;
  for (const nlohmann::json& object : manifests) {
    if (!object.is_object()) continue;
    nlohmann::json metadata = {{"name", object.value("/metadata/name"_json_pointer, std::string())}};
    if (object.contains("/metadata/namespace"_json_pointer))
      metadata["namespace"] = object.at("/metadata/namespace"_json_pointer);
    out.push_back(
        {{"apiVersion", object.value("apiVersion", "")}, {"kind", object.value("kind", "")}, {"metadata", metadata}});
  }
  return out;
}

// What one round writes besides decisions and bindings: the commands it queued and the workloads' events.
struct RoundOutput {
  int commands = 0;
  std::vector<store::PendingWorkloadEvent> events;
  void event(const std::string& workload_id, std::int64_t generation, store::WorkloadEvent e) {
    events.push_back({workload_id, generation, std::move(e)});
  }
};

// The binding's objects deleted on its cluster: Deleting, with a delete_workload command.
void delete_on_cluster(pqxx::transaction_base& txn, const store::StoredBinding& b, const std::string& workload,
                       const nlohmann::json& manifests, RoundOutput& out) {
  const std::string id = command_id(b.seq, b.revision, "delete");
  const nlohmann::json payload = {{"manifests", identities(manifests)}, {"placement", {{"workload", workload}}}};
  store::enqueue_command(txn, b.cluster, id, "delete_workload", payload, kCreatedBy);
  store::set_binding_command(txn, b.seq, id, "Deleting");
  ++out.commands;
}

// Pending/Deleting bindings whose command finished, and Applied or Running bindings whose agent reports a change
// (binding_progress.hpp).
void follow_agents(pqxx::transaction_base& txn, RoundOutput& out) {
  for (const store::FinishedBindingCommand& f : store::finished_binding_commands(txn, kBookkeepingLimit)) {
    const bool ok = f.command_state == "succeeded";
    out.event(f.workload_id, f.binding.generation,
              binding_report_event(f.binding.cluster, f.binding.state, ok, f.message));
    if (f.binding.state == "Deleting") {
      // A failed delete leaves the row, Failed: nothing the loop can do will make that agent delete; people can see it.
      if (ok) {
        store::delete_binding(txn, f.binding.seq);
      } else {
        store::set_binding_state(txn, f.binding.seq, "Failed", "delete_workload failed: " + f.message);
      }
    } else {
      store::set_binding_state(txn, f.binding.seq, ok ? "Applied" : "Failed", ok ? "" : f.message);
    }
  }
  for (const store::ReplacedBinding& r : store::replaced_bindings(txn, kBookkeepingLimit)) {
    out.event(r.workload_id, r.binding.generation, superseded_removal_event(r.binding));
    delete_on_cluster(txn, r.binding, r.workload, r.manifests, out);
  }
  for (const store::AppliedBinding& a : store::applied_bindings(txn, kBookkeepingLimit)) {
    std::optional<BindingProgress> progress = binding_progress(a);
    if (!progress) continue;
    store::set_binding_state(txn, a.binding.seq, progress->state, progress->message);
    out.event(a.workload_id, a.binding.generation, std::move(progress->event));
  }
}

void remove_bindings(pqxx::transaction_base& txn, const store::WorkloadRecord& w, const BindingChanges& changes,
                     RoundOutput& out) {
  for (const store::StoredBinding& b : changes.drop) store::delete_binding(txn, b.seq);
  for (const store::StoredBinding& b : changes.remove) delete_on_cluster(txn, b, w.name, w.manifests, out);
  for (const store::StoredBinding& b : changes.supersede) {
    store::set_binding_state(txn, b.seq, "Superseded", "moving away: kept running until its replacement runs");
  }
}

// GPUs by model after the round's decisions (metrics): total and bound on admitted nodes of ready clusters, free
// on those that take work.
std::map<std::string, PlacementLoopStats::Gpus> gpus_by_model(const placement::Snapshot& after) {
  std::map<std::string, PlacementLoopStats::Gpus> gpus;
  for (const placement::ClusterSnapshot& c : after.clusters) {
    if (c.state != "ready") continue;
    for (const placement::NodeSnapshot& n : c.nodes) {
      if (n.gpu_model.empty() || n.admission != model::Admission::kAdmitted) continue;
      PlacementLoopStats::Gpus& g = gpus[n.gpu_model];
      g.total += n.gpus_healthy;
      g.bound += std::min(n.gpus_used, n.gpus_healthy);
      if (n.schedulable && !n.draining) g.free += std::max(0, n.gpus_healthy - n.gpus_used);
    }
  }
  return gpus;
}

// The decision as stored, with the model fit and cost hints (issue #15 item 3) of a GPU workload.
nlohmann::json stored_decision(const placement::Decision& decision, const placement::Workload& workload,
                               const std::optional<placement::ModelPlacement>& fit,
                               const std::vector<placement::ClusterBinding>& current,
                               const std::function<const placement::HintContext&()>& context) {
  nlohmann::json stored = placement::to_json(decision);
  if (workload.resources.gpus > 0) {
    stored["hints"] = placement::to_json(placement::placement_hints(context(), workload, fit, decision, current));
  }
  return stored;
}

void remove_deleted(pqxx::transaction_base& txn, const store::WorkloadRecord& w, RoundOutput& out) {
  const BindingChanges changes = deletion_changes(w.bindings);
  for (store::WorkloadEvent& e : deletion_events(changes)) out.event(w.id, w.generation, std::move(e));
  remove_bindings(txn, w, changes, out);
  if (changes.remove.size() + changes.drop.size() == w.bindings.size() && changes.remove.empty()) {
    store::delete_workload_row(txn, w.id);
  }
}

// The fleet's clusters as the loop needs them beside the snapshot: ids for the binding rows, labels for the
// overrides' cluster selectors.
struct FleetIndex {
  std::map<std::string, std::string> ids;
  std::map<std::string, model::Labels> labels;
  std::set<std::string> gone;  // unreachable past the liveness grace, or being deleted
  // The round's clusters by name, for the few nodes an applied binding names (the fleet outlives the index).
  std::map<std::string, const store::ClusterWithNodes*> clusters;

  // The bound nodes' common nvidia.com/gpu.product, "" when one has none or they differ.
  std::string gpu_product_of(const placement::ClusterBinding& b) const {
    const auto cluster = clusters.find(b.cluster);
    if (cluster == clusters.end()) return "";
    const std::vector<model::NodeInfo>& nodes = *cluster->second->nodes;
    std::string product;
    for (const placement::NodeShare& share : b.nodes) {
      const auto node =
          std::find_if(nodes.begin(), nodes.end(), [&](const model::NodeInfo& n) { return n.name == share.node; });
      if (node == nodes.end()) return "";
      const auto label = node->labels.find(kGpuProductLabel);
      if (label == node->labels.end() || (!product.empty() && label->second != product)) return "";
      product = label->second;
    }
    return product;
  }
};

FleetIndex fleet_index(const std::vector<store::ClusterWithNodes>& fleet) {
  FleetIndex index;
  for (const store::ClusterWithNodes& c : fleet) {
    index.ids.emplace(c.cluster.name, c.cluster.id);
    index.labels.emplace(c.cluster.name, c.cluster.labels);
    if (c.cluster.state == "unreachable" || c.cluster.state == "deleting") index.gone.insert(c.cluster.name);
    index.clusters.emplace(c.cluster.name, &c);
  }
  return index;
}

// A stored workload's spec; nullopt (logged) when it does not parse, which fleetd's own validation should prevent.
std::optional<placement::Workload> stored_spec(const store::WorkloadRecord& w) {
  auto spec = placement::workload_spec_from_json(w.spec);
  if (spec) return std::move(*spec);
  log::error("placement: a stored workload spec does not parse",
             {{"workload", w.name}, {"error", spec.error().message}});
  return std::nullopt;
}

// The overrides of the round's workloads (issue #15 item 2), by workload name.
std::map<std::string, std::vector<placement::VersionedOverride>> round_overrides(
    pqxx::transaction_base& txn, const std::vector<store::WorkloadRecord>& records) {
  std::vector<std::string> names;
  names.reserve(records.size());
  for (const store::WorkloadRecord& w : records) names.push_back(w.name);
  std::map<std::string, std::vector<placement::VersionedOverride>> out;
  for (store::StoredOverride& o : store::overrides_for_workloads(txn, names)) {
    for (const std::string& workload : o.value.workloads) out[workload].push_back({o.value, o.generation});
  }
  return out;
}

// A binding is applied with its overrides; one whose overrides fail is recorded Failed, with why, and nothing is
// sent: a cluster never runs half-patched manifests.
void apply_bindings(pqxx::transaction_base& txn, const store::WorkloadRecord& w, const placement::Workload& workload,
                    const FleetIndex& fleet, const BindingOverrides& overrides, const BindingChanges& changes,
                    RoundOutput& out) {
  // Three statements for the whole decision (bindings, commands, command ids), not five per binding: a PickN 100
  // spent most of its round in those round trips.
  std::vector<store::BindingWrite> writes;
  std::vector<const nlohmann::json*> manifests;  // per binding: with its cluster's overrides applied, if any
  writes.reserve(changes.apply.size());
  for (const placement::ClusterBinding& b : changes.apply) {
    const auto applied = overrides.applied.find(b.cluster);
    const bool overridden = applied != overrides.applied.end();
    writes.push_back({fleet.ids.at(b.cluster), b.replicas, placement::to_json(b.nodes),
                      overridden ? placement::to_json(applied->second.applied) : nlohmann::json::array()});
    manifests.push_back(overridden ? &applied->second.manifests : &w.manifests);
  }
  const std::vector<std::pair<std::int64_t, int>> written = store::upsert_bindings(txn, w.id, w.generation, writes);
  std::vector<store::NewCommand> commands;
  std::vector<std::pair<std::int64_t, std::string>> command_ids;
  for (std::size_t i = 0; i < changes.apply.size(); ++i) {
    const placement::ClusterBinding& b = changes.apply[i];
    const auto [seq, revision] = written[i];
    if (const auto failed = overrides.failed.find(b.cluster); failed != overrides.failed.end()) {
      const std::string message = override_failure_message(failed->second);
      store::set_binding_state(txn, seq, "Failed", message);
      out.event(w.id, w.generation, override_failure_event(b.cluster, message));
      continue;
    }
    std::string id = command_id(seq, revision, "apply");
    commands.push_back(
        {b.cluster,
         id,
         "apply_workload",
         {{"manifests", render_manifests(*manifests[i], workload, w.generation, b, fleet.gpu_product_of(b))},
          {"placement", placement_member(workload, w.generation, b)}},
         ""});  // any cluster of the name: the binding is to whatever cluster holds it now
    command_ids.emplace_back(seq, std::move(id));
  }
  store::enqueue_commands(txn, commands, kCreatedBy);
  store::set_binding_commands(txn, command_ids, "Pending");
  out.commands += static_cast<int>(commands.size());
}

// One workload's decision written: the placement, the events, and the bindings it changes.
void write_decision(pqxx::transaction_base& txn, const store::WorkloadRecord& w, const placement::Workload& workload,
                    const placement::Decision& decision, const nlohmann::json& stored,
                    const std::vector<placement::VersionedOverride>& overrides, const FleetIndex& index,
                    RoundOutput& out) {
  store::save_placement(txn, w.id, w.generation, stored, placement::to_string(decision.state));
  const BindingOverrides bound = binding_overrides(w.manifests, overrides, decision.bindings, index.labels);
  const BindingChanges changes = binding_changes(w.bindings, decision, w.generation, bound.records(), index.gone);
  const DecisionContext context{w.state, w.decided_generation, w.generation};
  for (store::WorkloadEvent& e : decision_events(context, decision, w.bindings, changes)) {
    out.event(w.id, w.generation, std::move(e));
  }
  remove_bindings(txn, w, changes, out);
  apply_bindings(txn, w, workload, index, bound, changes, out);
}

}  // namespace

PlacementLoop::PlacementLoop(Options options, const Clock& clock) : options_(std::move(options)), clock_(clock) {}

PlacementLoop::~PlacementLoop() {
  stop();
}

void PlacementLoop::start() {
  thread_ = std::thread([this] { run(); });
}

void PlacementLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

PlacementLoopStats PlacementLoop::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void PlacementLoop::round(pqxx::connection_base& conn, bool retry_unplaced, bool moves, bool safety) {
  const auto started = clock_.steady_now();
  pqxx::work txn(conn);
  RoundOutput out;
  follow_agents(txn, out);
  std::vector<store::WorkloadRecord> records =
      store::workloads_to_place(txn, retry_unplaced, moves, options_.batch_limit);
  std::vector<double> decision_seconds;
  std::map<std::string, PlacementLoopStats::Gpus> gpus;
  if (safety && ++safety_rounds_ % kFleetCacheSafetyRounds == 0) fleet_cache_.by_cluster_id.clear();
  if (!records.empty() || safety) {
    int unreadable = 0;
    const std::vector<store::ClusterWithNodes> fleet = store::load_fleet(txn, unreadable, fleet_cache_);
    if (unreadable > 0) log::warn("placement: nodes with unreadable inventory left out", {{"nodes", unreadable}});
    const FleetIndex index = fleet_index(fleet);
    const auto overrides = round_overrides(txn, records);
    placement::Snapshot snapshot =
        store::build_snapshot(fleet, store::bound_by_node(store::bound_node_takes(txn)),
                              store::pools_being_upgraded(txn), store::clusters_pending_drain(txn));
    // The hints (model fit, costs) read the snapshot the round starts with; only GPU workloads need it.
    std::optional<placement::HintContext> hints;
    placement::PlacementEngine engine(snapshot);
    auto hint_context = [&]() -> const placement::HintContext& {
      if (!hints) hints.emplace(snapshot);
      return *hints;
    };

    std::vector<placement::Workload> workloads;
    std::vector<std::optional<placement::ModelPlacement>> fits;  // beside workloads
    std::vector<std::size_t> placeable;                          // indexes into records
    for (std::size_t i = 0; i < records.size(); ++i) {
      store::WorkloadRecord& w = records[i];
      if (w.deleting) {
        remove_deleted(txn, w, out);
        continue;
      }
      std::optional<placement::Workload> spec = stored_spec(w);
      if (!spec) continue;
      // A workload that names a model gets its GPUs and memory per GPU from the fleet's shapes first
      // (placement/model_placement.hpp); the engine filters on what that derives.
      std::optional<placement::ModelPlacement> fit;
      if (spec->resources.model) fit = placement::place_model(*spec, hint_context().shapes());
      workloads.push_back(fit ? placement::with_model_resources(std::move(*spec), *fit) : std::move(*spec));
      fits.push_back(std::move(fit));
      placeable.push_back(i);
    }
    for (const std::size_t k : placeable.empty() ? std::vector<std::size_t>{} : placement::batch_order(workloads)) {
      const store::WorkloadRecord& w = records[placeable[k]];
      const placement::Workload& workload = workloads[k];
      const auto t0 = clock_.steady_now();
      const std::vector<placement::ClusterBinding> current = engine_bindings(w.bindings);
      const placement::Decision decision = engine.place(workload, current);
      decision_seconds.push_back(std::chrono::duration<double>(clock_.steady_now() - t0).count());
      const auto own = overrides.find(w.name);
      write_decision(txn, w, workload, decision, stored_decision(decision, workload, fits[k], current, hint_context),
                     own == overrides.end() ? kNoOverrides : own->second, index, out);
    }
    gpus = gpus_by_model(engine.current());
  }
  std::map<std::string, std::int64_t> by_state;
  if (safety) by_state = store::workloads_by_state(txn);
  store::append_workload_events(txn, clock_.wall_now(), out.events);
  txn.commit();

  std::lock_guard lock(mutex_);
  stats_.rounds++;
  stats_.decisions += decision_seconds.size();
  stats_.commands += static_cast<std::uint64_t>(out.commands);
  for (const double s : decision_seconds) stats_.decision_seconds.observe(s);
  const double seconds = std::chrono::duration<double>(clock_.steady_now() - started).count();
  stats_.round_seconds.observe(seconds);
  loop_stats_.ran(clock_.wall_now(), seconds);
  if (!gpus.empty() || safety) stats_.gpus_by_model = std::move(gpus);
  if (safety) stats_.workloads_by_state = std::move(by_state);
}

void PlacementLoop::hold_agent_events(pqxx::connection_base& conn, std::chrono::steady_clock::time_point due,
                                      std::set<std::string>& events) {
  using namespace std::chrono;
  if (steady_clock::now() >= due) return;
  // Hold the agents' events until the spacing has passed, and take what else arrives meanwhile.
  conn.await_notification(0, static_cast<long>(duration_cast<microseconds>(due - steady_clock::now()).count()));
  conn.get_notifs();
  std::lock_guard lock(mutex_);
  events.merge(notified_);
  notified_.clear();
}

void PlacementLoop::run() {
  using namespace std::chrono;
  auto backoff = milliseconds(250);
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    try {
      pqxx::connection conn(options_.database_url);
      Receiver receiver(conn, [this](const std::string& p) {
        std::lock_guard lock(mutex_);
        notified_.insert(p);
      });
      auto try_lock = [&conn] {
        pqxx::nontransaction txn(conn);
        return txn.exec_params("SELECT pg_try_advisory_lock($1)", lock_keys::kPlacementLoop)[0][0].as<bool>();
      };
      while (!try_lock()) {
        conn.await_notification(1, 0);
        std::lock_guard lock(mutex_);
        notified_.clear();
        if (stopping_) return;
      }
      {
        std::lock_guard lock(mutex_);
        stats_.leader = true;
      }
      log::info("placement loop: placing workloads on this replica");
      backoff = milliseconds(250);
      auto next_safety = steady_clock::now();
      auto last_round_end = steady_clock::now() - options_.agent_event_spacing;
      auto next_moves = steady_clock::now();
      for (;;) {
        std::set<std::string> events;
        {
          std::lock_guard lock(mutex_);
          if (stopping_) return;
          events.swap(notified_);
        }
        const bool safety = steady_clock::now() >= next_safety;
        if (!safety && !events.empty() && !events.contains("workload")) {
          hold_agent_events(conn, last_round_end + options_.agent_event_spacing, events);
        }
        if (safety) next_safety = steady_clock::now() + options_.safety_period;
        if (safety || !events.empty()) {
          const bool inventory = events.contains("inventory");
          // Moves: in every safety round, and after an inventory change (a quarantined node, a drain held or
          // begun, a cluster gone) at most once per moves_spacing. That query reads every binding's nodes, too
          // much for each of the rounds a fleet's heartbeats wake.
          const bool moves = safety || (inventory && steady_clock::now() >= next_moves);
          if (moves) next_moves = steady_clock::now() + options_.moves_spacing;
          round(conn, safety || inventory, moves, safety);
          last_round_end = steady_clock::now();
        }
        {
          std::lock_guard lock(mutex_);
          if (!notified_.empty()) continue;
        }
        auto wait = duration_cast<microseconds>(next_safety - steady_clock::now());
        wait = std::clamp(wait, microseconds(0), microseconds(250000));
        if (wait.count() > 0) conn.await_notification(0, static_cast<long>(wait.count()));
        conn.get_notifs();
      }
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(mutex_);
        stats_.errors++;
        stats_.leader = false;
      }
      loop_stats_.failed();
      log::warn("placement loop: round failed; reconnecting", {{"error", e.what()}, {"retryMs", backoff.count()}});
    }
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, backoff, [this] { return stopping_; })) return;
    backoff = std::min(milliseconds(5000), backoff * 2);
  }
}

}  // namespace fleet
