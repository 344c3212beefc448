#include "fleetd/loops/lease_sweeper.hpp"

#include <pqxx/pqxx>

#include "common/log.hpp"
#include "fleetd/loops/control_loop.hpp"
#include "fleetd/store/command_store.hpp"

namespace fleet {
namespace {
constexpr std::int64_t kLeaseSweeperLockKey = 0x666c656574000003;
}  // namespace

LeaseSweeper::LeaseSweeper(LeaseSweeperOptions options) : options_(std::move(options)) {
  int max_attempts = options_.max_attempts;
  loop_ = std::make_unique<ControlLoop>(
      ControlLoop::Options{"command-leases", options_.database_url, kLeaseSweeperLockKey, options_.period},
      [this, max_attempts](pqxx::transaction_base& txn) {
        for (const auto& e : store::sweep_expired_leases(txn, max_attempts)) {
          if (e.state == "failed") {
            failed_++;
            log::warn("command failed: lease expired too often",
                      {{"command", e.id}, {"cluster", e.cluster}, {"attempts", e.attempts}});
          } else {
            requeued_++;
            log::info("command lease expired; queued again",
                      {{"command", e.id}, {"cluster", e.cluster}, {"attempts", e.attempts}});
          }
        }
      });
}

LeaseSweeper::~LeaseSweeper() {
  stop();
}

void LeaseSweeper::start() {
  loop_->start();
}

void LeaseSweeper::stop() {
  loop_->stop();
}

}  // namespace fleet
