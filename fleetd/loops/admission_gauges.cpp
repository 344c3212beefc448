#include "fleetd/loops/admission_gauges.hpp"

#include "fleetd/db/lock_keys.hpp"
#include "fleetd/loops/control_loop.hpp"
#include "fleetd/store/inventory_store.hpp"

namespace fleet {

AdmissionGauges::AdmissionGauges(std::string database_url, std::chrono::milliseconds period, const Clock& clock) {
  loop_ = std::make_unique<ControlLoop>(
      ControlLoop::Options{"admission-gauges", std::move(database_url), lock_keys::kAdmissionGauges, period}, clock,
      [this](pqxx::transaction_base& txn, Clock::WallTime) {
        auto counts = store::gpu_nodes_by_admission(txn);
        std::lock_guard lock(mutex_);
        counts_ = std::move(counts);
      });
}

AdmissionGauges::~AdmissionGauges() {
  stop();
}

void AdmissionGauges::start() {
  loop_->start();
}

void AdmissionGauges::stop() {
  loop_->stop();
}

std::map<std::string, std::int64_t> AdmissionGauges::gpu_nodes_by_admission() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace fleet
