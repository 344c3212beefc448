#pragma once
// API tokens in PostgreSQL: only SHA-256 hashes are stored; the secret is returned once, at creation.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fleetd/auth/credentials.hpp"

namespace pqxx {
class transaction_base;
class connection_base;
}  // namespace pqxx

namespace fleet::store {

struct TokenRecord {
  std::string id;
  Role role = Role::kViewer;
  std::string description;
  std::string created_by;
  std::string created_at;  // RFC 3339
  std::string revoked_at;  // empty while valid
};

struct CreatedToken {
  TokenRecord record;
  std::string token;  // the secret; never stored, never logged
};

CreatedToken create_token(pqxx::transaction_base& txn, Role role, std::string_view description,
                          std::string_view created_by);
// Registers find_principal's statement on a connection (the DB pool calls it on connect).
void prepare_token_statements(pqxx::connection_base& conn);
// The principal a valid (not revoked) token hash belongs to. Needs prepare_token_statements.
std::optional<Principal> find_principal(pqxx::transaction_base& txn, std::string_view token_hash);
std::vector<TokenRecord> list_tokens(pqxx::transaction_base& txn);
// false when no such token or already revoked.
bool revoke_token(pqxx::transaction_base& txn, std::string_view id);

}  // namespace fleet::store
