#include "fleetd/store/token_store.hpp"

#include <pqxx/pqxx>

namespace fleet::store {
namespace {

#define FLEET_TS(col) "coalesce(to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')"
constexpr const char* kTokenColumns =
    "id::text, role, description, created_by, " FLEET_TS("created_at") ", " FLEET_TS("revoked_at");
#undef FLEET_TS

const std::string kInsert = std::string(
                                "INSERT INTO api_tokens (token_hash, role, description, created_by) "
                                "VALUES (decode($1, 'hex'), $2, $3, $4) RETURNING ") +
                            kTokenColumns;
constexpr const char* kFindPrincipal =
    "SELECT id::text, role FROM api_tokens WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL";
const std::string kList = std::string("SELECT ") + kTokenColumns + " FROM api_tokens ORDER BY created_at, id";
constexpr const char* kRevoke = "UPDATE api_tokens SET revoked_at = now() WHERE id::text = $1 AND revoked_at IS NULL";

TokenRecord row_to_record(const pqxx::row& r) {
  TokenRecord t;
  t.id = r[0].c_str();
  t.role = parse_role(r[1].c_str()).value_or(Role::kViewer);
  t.description = r[2].c_str();
  t.created_by = r[3].c_str();
  t.created_at = r[4].c_str();
  t.revoked_at = r[5].c_str();
  return t;
}

}  // namespace

CreatedToken create_token(pqxx::transaction_base& txn, Role role, std::string_view description,
                          std::string_view created_by) {
  CreatedToken out;
  out.token = generate_token();
  auto res = txn.exec_params(kInsert, hash_token(out.token), std::string(role_name(role)), std::string(description),
                             std::string(created_by));
  out.record = row_to_record(res.at(0));
  return out;
}

constexpr const char* kFindPrincipalStatement = "fleet_token_find_principal";

void prepare_token_statements(pqxx::connection_base& conn) {
  conn.prepare(kFindPrincipalStatement, kFindPrincipal);
}

std::optional<Principal> find_principal(pqxx::transaction_base& txn, std::string_view token_hash) {
  auto res = txn.exec_prepared(kFindPrincipalStatement, std::string(token_hash));
  if (res.empty()) return std::nullopt;
  auto role = parse_role(res[0][1].c_str());
  if (!role) return std::nullopt;
  return Principal{res[0][0].c_str(), *role};
}

std::vector<TokenRecord> list_tokens(pqxx::transaction_base& txn) {
  std::vector<TokenRecord> out;
  for (const auto& row : txn.exec(kList)) out.push_back(row_to_record(row));
  return out;
}

bool revoke_token(pqxx::transaction_base& txn, std::string_view id) {
  return txn.exec_params(kRevoke, std::string(id)).affected_rows() > 0;
}

}  // namespace fleet::store
