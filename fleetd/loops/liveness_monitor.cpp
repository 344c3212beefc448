#include "fleetd/loops/liveness_monitor.hpp"

#include <algorithm>
#include <pqxx/pqxx>

#include "common/log.hpp"
#include "common/time_format.hpp"
#include "fleetd/db/lock_keys.hpp"
#include "fleetd/loops/control_loop.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/liveness_store.hpp"

namespace fleet {
namespace {

// Bounds one round's work; a larger backlog is marked over the next rounds.
constexpr int kMaxMarkedPerRound = 5000;

}  // namespace

LivenessMonitor::LivenessMonitor(LivenessOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  policy_.unreachable_after = options_.unreachable_after;
  // Half the heartbeat interval: a cluster is marked at most that long after its deadline.
  auto period = std::max(std::chrono::milliseconds(250),
                         std::chrono::duration_cast<std::chrono::milliseconds>(options_.heartbeat_interval) / 2);
  loop_ = std::make_unique<ControlLoop>(
      ControlLoop::Options{"liveness", options_.database_url, lock_keys::kLiveness, period}, clock_,
      [this](pqxx::transaction_base& txn, Clock::WallTime now) { tick(txn, now); });
}

LivenessMonitor::~LivenessMonitor() {
  stop();
}

void LivenessMonitor::start() {
  policy_.started_at = clock_.wall_now();
  loop_->start();
}

void LivenessMonitor::stop() {
  loop_->stop();
}

std::uint64_t LivenessMonitor::rounds() const {
  return loop_->rounds();
}

std::size_t LivenessMonitor::tick(pqxx::transaction_base& txn, Clock::WallTime now) {
  if (in_startup_grace(policy_, now)) return 0;
  const Clock::WallTime cutoff = unreachable_cutoff(policy_, now);
  std::vector<HeardCluster> ready;
  for (auto& row : store::ready_clusters_heard_before(txn, cutoff, kMaxMarkedPerRound)) {
    ready.push_back({std::move(row.cluster), row.at});
  }
  const LivenessDecision decision = decide_liveness(policy_, now, ready);
  std::vector<std::string> names;
  for (const Unreachable& u : decision.mark) names.push_back(u.name);
  // A heartbeat that arrived since the read keeps its cluster ready: the store checks the cutoff again.
  const std::vector<std::string> marked = store::mark_unreachable(txn, names, cutoff);
  const auto after = policy_.unreachable_after.count();
  for (const Unreachable& u : decision.mark) {
    if (std::find(marked.begin(), marked.end(), u.name) == marked.end()) continue;
    const std::string last = format_rfc3339(u.last_heartbeat);
    store::AuditEntry e;
    e.actor = "fleetd";
    e.action = "cluster.unreachable";
    e.object_kind = "cluster";
    e.object_name = u.name;
    e.outcome = "success";
    e.detail = {{"lastHeartbeat", last}, {"unreachableAfterSeconds", after}};
    store::write_audit(txn, e);
    log::warn("cluster unreachable: no heartbeat",
              {{"cluster", u.name}, {"lastHeartbeat", last}, {"unreachableAfterSeconds", after}});
  }
  marked_ += marked.size();
  return marked.size();
}

LoopStats::Snapshot LivenessMonitor::loop_stats() const {
  return loop_->stats();
}

}  // namespace fleet
