#include "fleetd/loops/liveness_monitor.hpp"

#include <algorithm>
#include <pqxx/pqxx>

#include "common/log.hpp"
#include "fleetd/loops/control_loop.hpp"
#include "fleetd/store/audit_store.hpp"

namespace fleet {
namespace {

constexpr std::int64_t kLivenessLockKey = 0x666c656574000002;
// Only `ready` clusters: `registering` ones never heartbeated, `cordoned` and `deleting` are an operator's call.
// The version bump is what tells watchers the state changed.
constexpr const char* kMarkUnreachable =
    "UPDATE clusters SET state = 'unreachable', resource_version = nextval('resource_version_seq'), "
    "updated_at = now() WHERE state = 'ready' AND last_heartbeat < now() - make_interval(secs => $1) "
    "RETURNING name, to_char(last_heartbeat AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

}  // namespace

LivenessMonitor::LivenessMonitor(LivenessOptions options) : options_(std::move(options)) {
  // Half the heartbeat interval: a cluster is marked at most that long after its deadline.
  auto period = std::max(std::chrono::milliseconds(250),
                         std::chrono::duration_cast<std::chrono::milliseconds>(options_.heartbeat_interval) / 2);
  auto after = options_.unreachable_after;
  loop_ = std::make_unique<ControlLoop>(
      ControlLoop::Options{"liveness", options_.database_url, kLivenessLockKey, period},
      [this, after](pqxx::transaction_base& txn) {
        // After a fleetd outage every agent looks silent: give them one full limit to reach this process first.
        if (std::chrono::steady_clock::now() - started_ < after) return;
        for (const auto& row : txn.exec_params(kMarkUnreachable, static_cast<double>(after.count()))) {
          const std::string name = row[0].c_str();
          const std::string last = row[1].c_str();
          store::AuditEntry e;
          e.actor = "fleetd";
          e.action = "cluster.unreachable";
          e.object_kind = "cluster";
          e.object_name = name;
          e.outcome = "success";
          e.detail = {{"lastHeartbeat", last}, {"unreachableAfterSeconds", after.count()}};
          store::write_audit(txn, e);
          log::warn("cluster unreachable: no heartbeat",
                    {{"cluster", name}, {"lastHeartbeat", last}, {"unreachableAfterSeconds", after.count()}});
          marked_++;
        }
      });
}

LivenessMonitor::~LivenessMonitor() {
  stop();
}

void LivenessMonitor::start() {
  started_ = std::chrono::steady_clock::now();
  loop_->start();
}

void LivenessMonitor::stop() {
  loop_->stop();
}

std::uint64_t LivenessMonitor::rounds() const {
  return loop_->rounds();
}

}  // namespace fleet
