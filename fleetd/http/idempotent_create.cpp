#include "fleetd/http/idempotent_create.hpp"

#include <pqxx/pqxx>

#include "fleetd/auth/credentials.hpp"

namespace fleet {
namespace {

constexpr std::size_t kMaxIdempotencyKey = 255;

}  // namespace

Result<std::optional<store::IdempotencyKeyRef>> idempotency_key(const Call& call) {
  const std::string* key = call.req.header("idempotency-key");
  if (!key) return std::optional<store::IdempotencyKeyRef>();
  bool printable = !key->empty() && key->size() <= kMaxIdempotencyKey;
  for (char c : *key) printable = printable && c >= 0x21 && c <= 0x7e;
  if (!printable) {
    return make_error(ErrorCode::kInvalid, "Idempotency-Key must be 1-255 printable ASCII characters",
                      "Idempotency-Key", "malformed-request");
  }
  return std::optional<store::IdempotencyKeyRef>(store::IdempotencyKeyRef{call.principal.actor(), *key, call.req.method,
                                                                          call.path_only, sha256_hex(call.req.body)});
}

std::optional<EarlierAnswer> claim_or_replay(const Call& call, pqxx::transaction_base& txn,
                                             const store::IdempotencyKeyRef& key) {
  auto earlier = store::claim_idempotency_key(txn, key);
  if (!earlier) return std::nullopt;
  if (earlier->request_hash != key.request_hash || earlier->path != key.path) {
    auto err =
        make_error(ErrorCode::kConflict, "this Idempotency-Key was used with a different request body or endpoint",
                   "Idempotency-Key", "idempotency-key-reused");
    return EarlierAnswer{problem(call, err), err};
  }
  auto resp = json_response(earlier->status, earlier->body);
  if (earlier->status >= 400) resp.headers["content-type"] = "application/problem+json";
  resp.headers["idempotent-replayed"] = "true";
  return EarlierAnswer{std::move(resp), std::nullopt};
}

std::optional<http::Response> replay_earlier(const Call& call, pqxx::transaction_base& txn,
                                             const std::optional<store::IdempotencyKeyRef>& key,
                                             store::AuditEntry entry) {
  if (!key) return std::nullopt;
  auto earlier = claim_or_replay(call, txn, *key);
  if (!earlier) return std::nullopt;
  if (earlier->refused) {
    entry.outcome = earlier->refused->type;
    store::write_audit(txn, entry);
  }
  txn.commit();
  return std::move(earlier->response);
}

}  // namespace fleet
