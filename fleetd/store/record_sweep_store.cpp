#include "fleetd/store/record_sweep_store.hpp"

#include <pqxx/pqxx>

namespace fleet::store {

SweptRecords sweep_spent_records(pqxx::transaction_base& txn, std::size_t batch) {
  SweptRecords swept;
  // claim_idempotency_key already treats a key older than 24 h as absent; this removes it for good. ctid batches:
  // PostgreSQL's DELETE has no LIMIT.
  swept.idempotency_keys = txn.exec_params(R"(
      DELETE FROM idempotency_keys WHERE ctid IN (
        SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '24 hours' LIMIT $1))",
                                           static_cast<long long>(batch))
                               .affected_rows();
  swept.bootstrap_tokens = txn.exec_params(R"(
      DELETE FROM bootstrap_tokens WHERE id IN (
        SELECT id FROM bootstrap_tokens
        WHERE LEAST(used_at, revoked_at, expires_at) < now() - interval '24 hours' LIMIT $1))",
                                           static_cast<long long>(batch))
                               .affected_rows();
  swept.workload_events = txn.exec_params(R"(
      DELETE FROM workload_events WHERE seq IN (
        SELECT seq FROM workload_events WHERE at < now() - interval '14 days' LIMIT $1))",
                                          static_cast<long long>(batch))
                              .affected_rows();
  return swept;
}

}  // namespace fleet::store
