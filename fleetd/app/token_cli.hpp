#pragma once
// `fleetd token create|revoke`: API tokens written straight into the database, for the first admin of an external
// database and for recovery. Work offline (no fleetd needs to run). Exit codes: 0 done, 1 failure, 2 usage,
// 3 no such token.
#include <string>

namespace fleet {

struct TokenCliOptions {
  std::string database_url;              // external PostgreSQL; empty → the data directory's embedded server
  std::string data_dir = "fleetd-data";  // fleetd's data directory (embedded mode)
};

// Prints the token as the last word on stdout (scripts take it with $(…)).
int run_token_create(const std::string& role, const std::string& description, const TokenCliOptions& options);
int run_token_revoke(const std::string& id, const TokenCliOptions& options);

}  // namespace fleet
