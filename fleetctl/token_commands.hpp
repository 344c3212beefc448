#pragma once
// create / get / delete for API tokens (admin role on the server).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

#include "fleetctl/list_output.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct CreateTokenOptions {
  std::string role;
  std::string description;
  std::string output;
};
// Prints only the secret on stdout (so `TOKEN=$(fleetctl create token …)` works) and its id on stderr.
int create_token(Session& session, const CreateTokenOptions& options);

// Every token, revoked ones included (the server lists them all), with a STATUS column.
int get_tokens(Session& session, const ListOptions& options);

struct CreateBootstrapTokenOptions {
  std::string cluster;
  std::string ttl = "1h";
  std::string output;
};
// A one-time token the cluster's agent registers with (operator). Prints only the secret on stdout.
int create_bootstrap_token(Session& session, const CreateBootstrapTokenOptions& options);

// "90s", "15m", "1h", "7d" or plain seconds → seconds; kInvalid (usage) otherwise.
Result<std::int64_t> parse_ttl_seconds(std::string_view text);

int delete_token(Session& session, const std::string& id);

}  // namespace fleet::ctl
