#pragma once
// Idempotency-Key records (24 h). Claiming a key inserts a row inside the request's transaction: a concurrent
// request with the same key blocks on that row until the first commits, then sees its stored response, so a
// retried POST never creates twice.
#include <optional>
#include <string>
#include <string_view>

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

struct IdempotencyKeyRef {
  std::string principal;
  std::string key;
  std::string method;
  std::string path;
  std::string request_hash;  // hex SHA-256 of the body
};

struct StoredResponse {
  std::string request_hash;
  std::string method;
  std::string path;
  int status = 0;
  std::string body;
};

// nullopt: the key is now claimed by this transaction (the caller must complete it before commit);
// otherwise the response stored by the earlier request with this key.
std::optional<StoredResponse> claim_idempotency_key(pqxx::transaction_base& txn, const IdempotencyKeyRef& ref);
void complete_idempotency_key(pqxx::transaction_base& txn, const IdempotencyKeyRef& ref, int status,
                              std::string_view body);

}  // namespace fleet::store
