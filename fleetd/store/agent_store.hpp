#pragma once
// Agent registration in PostgreSQL: one-time bootstrap tokens and per-cluster agent credentials, stored as
// SHA-256 hashes only, and their revocation. Whatever ends an agent credential notifies its hash on
// kAgentCredentialChannel when it commits (a trigger, migrations/0012), so every replica forgets it at once.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

// The channel an ended agent credential is notified on, with its hash (hex) as the payload.
inline constexpr const char* kAgentCredentialChannel = "fleet_agent_credentials";

struct CreatedBootstrapToken {
  std::string id;          // uuid: what revoke_bootstrap_token takes
  std::string token;       // the secret, shown once
  std::string expires_at;  // RFC 3339
};

// nullopt when the cluster does not exist.
std::optional<CreatedBootstrapToken> create_bootstrap_token(pqxx::transaction_base& txn, std::string_view cluster,
                                                            std::chrono::seconds ttl, std::string_view created_by);

// Marks an unused, unexpired bootstrap token of `cluster` revoked, so it can never register. false when there is
// no such token (unknown, another cluster's, used, expired or revoked already).
bool revoke_bootstrap_token(pqxx::transaction_base& txn, std::string_view cluster, std::string_view id);

struct Registration {
  std::string cluster;     // the cluster the bootstrap token was made for
  std::string credential;  // the agent's long-lived credential, shown once
  // The hash of the credential this registration replaced, if the cluster had one: the caller forgets it.
  std::optional<std::string> replaced_credential_hash;
};

// Consumes a valid bootstrap token (unused, not expired) atomically and issues the cluster's agent credential,
// replacing any earlier one (a re-registered agent invalidates the old credential). nullopt when the token is
// unknown, used or expired.
std::optional<Registration> register_agent(pqxx::transaction_base& txn, std::string_view bootstrap_token_hash,
                                           std::string_view agent_version);

// The cluster an agent credential belongs to. Its agent row stays key-share locked until the transaction ends: a
// re-registration, a revocation or the cluster's deletion waits for it, so whatever the transaction writes next
// is written under a credential that is still valid when it commits.
std::optional<std::string> find_agent_cluster(pqxx::transaction_base& txn, std::string_view credential_hash);
// The same for many credentials at once (hex hashes): hash → cluster for those that name an agent, each agent row
// key-share locked to the commit.
std::map<std::string, std::string, std::less<>> find_agent_clusters(pqxx::transaction_base& txn,
                                                                    const std::vector<std::string>& credential_hashes);

// The hash (hex) of `cluster`'s current agent credential; nullopt when it has none (no agent, or revoked).
std::optional<std::string> find_agent_credential(pqxx::transaction_base& txn, std::string_view cluster);

// Ends `cluster`'s agent credential: the agent gets 401 until it registers again with a new bootstrap token; the
// stored inventory stays. Returns the revoked credential's hash; nullopt when the cluster has none.
std::optional<std::string> revoke_agent_credential(pqxx::transaction_base& txn, std::string_view cluster);

}  // namespace fleet::store
