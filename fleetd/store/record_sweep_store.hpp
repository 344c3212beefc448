#pragma once
// Records that have served their purpose and would otherwise stay for ever (issue #10): Idempotency-Key records
// past their 24 h (a retry after that is a new request anyway, see idempotency_store.hpp), and bootstrap tokens
// that can never register any more (used, revoked or expired) a day after that happened, so that an operator still
// sees what happened to a token the day it happened; and workload events (issue #15 item 5) after 14 days, so that a
// workload that flaps for months does not grow its history without bound. Deleted in batches, on the database's
// clock.
#include <cstddef>

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

inline constexpr std::size_t kSweepBatch = 10'000;  // rows of each kind per call: one call stays short

struct SweptRecords {
  std::size_t idempotency_keys = 0;
  std::size_t bootstrap_tokens = 0;
  std::size_t workload_events = 0;
  std::size_t total() const { return idempotency_keys + bootstrap_tokens + workload_events; }
};

SweptRecords sweep_spent_records(pqxx::transaction_base& txn, std::size_t batch = kSweepBatch);

}  // namespace fleet::store
