#include "fleetd/store/agent_store.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "fleetd/auth/credentials.hpp"
#include "fleetd/store/prepared_statement.hpp"

namespace fleet::store {
namespace {

constexpr const char* kCreateBootstrap =
    "INSERT INTO bootstrap_tokens (token_hash, cluster_id, created_by, expires_at) "
    "SELECT decode($1, 'hex'), id, $3, now() + make_interval(secs => $4) FROM clusters WHERE name = $2 "
    "RETURNING to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), id::text";
// The id compares as text: a malformed id is simply not found, never a cast error.
constexpr const char* kRevokeBootstrap =
    "UPDATE bootstrap_tokens b SET revoked_at = now() FROM clusters c "
    "WHERE c.id = b.cluster_id AND c.name = $1 AND b.id::text = $2 AND b.used_at IS NULL AND b.revoked_at IS NULL "
    "AND b.expires_at > now()";
// One statement claims the token, so two registrations racing with one token cannot both succeed.
constexpr const char* kConsumeBootstrap =
    "UPDATE bootstrap_tokens b SET used_at = now() FROM clusters c "
    "WHERE b.token_hash = decode($1, 'hex') AND b.used_at IS NULL AND b.revoked_at IS NULL AND b.expires_at > now() "
    "AND c.id = b.cluster_id RETURNING c.id::text, c.name";
constexpr const char* kLockAgentRow =
    "SELECT encode(credential_hash, 'hex') FROM agents WHERE cluster_id = $1::uuid FOR UPDATE";
constexpr const char* kUpsertAgent =
    "INSERT INTO agents (cluster_id, credential_hash, agent_version) VALUES ($1::uuid, decode($2, 'hex'), $3) "
    "ON CONFLICT (cluster_id) DO UPDATE SET credential_hash = EXCLUDED.credential_hash, "
    "agent_version = EXCLUDED.agent_version, registered_at = now(), revoked_at = NULL";
constexpr const char* kFindAgent =
    "SELECT c.name FROM agents a JOIN clusters c ON c.id = a.cluster_id WHERE a.credential_hash = decode($1, 'hex') "
    "FOR KEY SHARE OF a";
constexpr const char* kFindAgents =
    "SELECT encode(a.credential_hash, 'hex'), c.name FROM agents a JOIN clusters c ON c.id = a.cluster_id "
    "WHERE a.credential_hash IN (SELECT decode(h, 'hex') FROM jsonb_array_elements_text($1::jsonb) h) "
    "FOR KEY SHARE OF a";
constexpr const char* kFindCredential =
    "SELECT encode(a.credential_hash, 'hex') FROM agents a JOIN clusters c ON c.id = a.cluster_id "
    "WHERE c.name = $1 AND a.credential_hash IS NOT NULL";
// UPDATE … RETURNING sees the new row: the old hash comes from the locked read joined in.
constexpr const char* kRevokeAgent =
    "UPDATE agents a SET credential_hash = NULL, revoked_at = now() FROM "
    "(SELECT g.cluster_id, g.credential_hash FROM agents g JOIN clusters c ON c.id = g.cluster_id "
    "WHERE c.name = $1 AND g.credential_hash IS NOT NULL FOR UPDATE OF g) old "
    "WHERE a.cluster_id = old.cluster_id RETURNING encode(old.credential_hash, 'hex')";

}  // namespace

std::optional<CreatedBootstrapToken> create_bootstrap_token(pqxx::transaction_base& txn, std::string_view cluster,
                                                            std::chrono::seconds ttl, std::string_view created_by) {
  CreatedBootstrapToken out;
  out.token = generate_token();
  auto res = txn.exec_params(kCreateBootstrap, hash_token(out.token), std::string(cluster), std::string(created_by),
                             static_cast<double>(ttl.count()));
  if (res.empty()) return std::nullopt;
  out.expires_at = res[0][0].c_str();
  out.id = res[0][1].c_str();
  return out;
}

bool revoke_bootstrap_token(pqxx::transaction_base& txn, std::string_view cluster, std::string_view id) {
  return txn.exec_params(kRevokeBootstrap, std::string(cluster), std::string(id)).affected_rows() == 1;
}

std::optional<Registration> register_agent(pqxx::transaction_base& txn, std::string_view bootstrap_token_hash,
                                           std::string_view agent_version) {
  auto res = txn.exec_params(kConsumeBootstrap, std::string(bootstrap_token_hash));
  if (res.empty()) return std::nullopt;
  Registration out;
  out.cluster = res[0][1].c_str();
  out.credential = generate_token();
  const std::string cluster_id = res[0][0].c_str();
  auto old = txn.exec_params(kLockAgentRow, cluster_id);
  if (!old.empty() && !old[0][0].is_null()) out.replaced_credential_hash = old[0][0].c_str();
  txn.exec_params(kUpsertAgent, cluster_id, hash_token(out.credential), std::string(agent_version));
  return out;
}

std::optional<std::string> find_agent_cluster(pqxx::transaction_base& txn, std::string_view credential_hash) {
  auto res = txn.exec_params(kFindAgent, std::string(credential_hash));
  if (res.empty()) return std::nullopt;
  return std::string(res[0][0].c_str());
}

std::map<std::string, std::string, std::less<>> find_agent_clusters(pqxx::transaction_base& txn,
                                                                    const std::vector<std::string>& credential_hashes) {
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& r :
       exec_prepared_statement(txn, "fleet_find_agents", kFindAgents, nlohmann::json(credential_hashes).dump())) {
    out.emplace(r[0].c_str(), r[1].c_str());
  }
  return out;
}

std::optional<std::string> find_agent_credential(pqxx::transaction_base& txn, std::string_view cluster) {
  auto res = txn.exec_params(kFindCredential, std::string(cluster));
  if (res.empty()) return std::nullopt;
  return std::string(res[0][0].c_str());
}

std::optional<std::string> revoke_agent_credential(pqxx::transaction_base& txn, std::string_view cluster) {
  auto res = txn.exec_params(kRevokeAgent, std::string(cluster));
  if (res.empty()) return std::nullopt;
  return std::string(res[0][0].c_str());
}

}  // namespace fleet::store
