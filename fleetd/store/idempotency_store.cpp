#include "fleetd/store/idempotency_store.hpp"

#include <pqxx/pqxx>

namespace fleet::store {
namespace {
constexpr const char* kExpire =
    "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND created_at < now() - interval '24 hours'";
constexpr const char* kClaim =
    "INSERT INTO idempotency_keys (principal, key, method, path, request_hash, status, response_body) "
    "VALUES ($1, $2, $3, $4, decode($5, 'hex'), 0, '') ON CONFLICT DO NOTHING";
constexpr const char* kSelect =
    "SELECT encode(request_hash, 'hex'), method, path, status, response_body FROM idempotency_keys "
    "WHERE principal = $1 AND key = $2";
constexpr const char* kComplete =
    "UPDATE idempotency_keys SET status = $3, response_body = $4 WHERE principal = $1 AND key = $2";
}  // namespace

std::optional<StoredResponse> claim_idempotency_key(pqxx::transaction_base& txn, const IdempotencyKeyRef& ref) {
  txn.exec_params(kExpire, ref.principal, ref.key);
  if (txn.exec_params(kClaim, ref.principal, ref.key, ref.method, ref.path, ref.request_hash).affected_rows() == 1) {
    return std::nullopt;
  }
  auto res = txn.exec_params(kSelect, ref.principal, ref.key);
  StoredResponse out;
  if (res.empty()) return out;  // vanished between statements (expired by a peer): treat as a mismatch
  out.request_hash = res[0][0].c_str();
  out.method = res[0][1].c_str();
  out.path = res[0][2].c_str();
  out.status = res[0][3].as<int>();
  out.body = res[0][4].c_str();
  return out;
}

void complete_idempotency_key(pqxx::transaction_base& txn, const IdempotencyKeyRef& ref, int status,
                              std::string_view body) {
  txn.exec_params(kComplete, ref.principal, ref.key, status, std::string(body));
}

}  // namespace fleet::store
