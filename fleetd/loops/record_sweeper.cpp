#include "fleetd/loops/record_sweeper.hpp"

#include <pqxx/pqxx>
#include <utility>

#include "common/log.hpp"
#include "fleetd/db/lock_keys.hpp"
#include "fleetd/loops/control_loop.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/record_sweep_store.hpp"

namespace fleet {

RecordSweeper::RecordSweeper(RecordSweeperOptions options, const Clock& clock) {
  // The ages are compared with now() in SQL, so `now` is unused: every replica agrees without their clocks.
  loop_ = std::make_unique<ControlLoop>(ControlLoop::Options{"record-sweeper", std::move(options.database_url),
                                                             lock_keys::kRecordSweeper, options.period},
                                        clock, [this](pqxx::transaction_base& txn, Clock::WallTime) {
                                          const store::SweptRecords swept = store::sweep_spent_records(txn);
                                          if (swept.total() == 0) return;
                                          store::AuditEntry entry;
                                          entry.actor = "fleetd";
                                          entry.action = "records.sweep";
                                          entry.object_kind = "records";
                                          entry.outcome = "success";
                                          entry.detail = {{"idempotencyKeys", swept.idempotency_keys},
                                                          {"bootstrapTokens", swept.bootstrap_tokens},
                                                          {"workloadEvents", swept.workload_events}};
                                          store::write_audit(txn, entry);
                                          deleted_ += swept.total();
                                          log::info("spent records deleted", entry.detail);
                                        });
}

RecordSweeper::~RecordSweeper() {
  stop();
}

void RecordSweeper::start() {
  loop_->start();
}

void RecordSweeper::stop() {
  loop_->stop();
}

LoopStats::Snapshot RecordSweeper::loop_stats() const {
  return loop_->stats();
}

}  // namespace fleet
