#pragma once
// Idempotency-Key for the create endpoints (POST /v1/clusters, POST /v1/clusters/{name}/commands): the header is
// checked the same way everywhere, and a request whose key an earlier request holds gets that request's stored
// answer (replayed) or 409 idempotency-key-reused when its body or endpoint differs.
#include <optional>

#include "fleetd/http/api_service.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/idempotency_store.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet {

// The request's Idempotency-Key (1-255 printable ASCII characters), nullopt when it sends none, or an Error
// (400 malformed-request) when it is malformed.
Result<std::optional<store::IdempotencyKeyRef>> idempotency_key(const Call& call);

struct EarlierAnswer {
  http::Response response;
  std::optional<Error> refused;  // set for idempotency-key-reused: the caller audits it
};

// Claims the key inside txn. nullopt: this request holds it now and must complete it before commit; otherwise the
// answer to send instead of doing the work again.
std::optional<EarlierAnswer> claim_or_replay(const Call& call, pqxx::transaction_base& txn,
                                             const store::IdempotencyKeyRef& key);

// The replay path every write shares: nullopt when the request sends no key or holds it now (it then completes the
// key before commit). Otherwise the earlier request's answer, to send as it is: a key reused with another body or
// endpoint is audited as `entry` with the refusal's slug as outcome, and the transaction is committed.
std::optional<http::Response> replay_earlier(const Call& call, pqxx::transaction_base& txn,
                                             const std::optional<store::IdempotencyKeyRef>& key,
                                             store::AuditEntry entry);

}  // namespace fleet
