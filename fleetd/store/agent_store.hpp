#pragma once
// Agent registration in PostgreSQL: one-time bootstrap tokens and per-cluster agent credentials, stored as
// SHA-256 hashes only.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

struct CreatedBootstrapToken {
  std::string token;       // the secret, shown once
  std::string expires_at;  // RFC 3339
};

// nullopt when the cluster does not exist.
std::optional<CreatedBootstrapToken> create_bootstrap_token(pqxx::transaction_base& txn, std::string_view cluster,
                                                            std::chrono::seconds ttl, std::string_view created_by);

struct Registration {
  std::string cluster;     // the cluster the bootstrap token was made for
  std::string credential;  // the agent's long-lived credential, shown once
};

// Consumes a valid bootstrap token (unused, not expired) atomically and issues the cluster's agent credential,
// replacing any earlier one (a re-registered agent invalidates the old credential). nullopt when the token is
// unknown, used or expired.
std::optional<Registration> register_agent(pqxx::transaction_base& txn, std::string_view bootstrap_token_hash,
                                           std::string_view agent_version);

// The cluster an agent credential belongs to.
std::optional<std::string> find_agent_cluster(pqxx::transaction_base& txn, std::string_view credential_hash);

}  // namespace fleet::store
