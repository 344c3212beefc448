#pragma once
// create / get / delete for API tokens (admin role on the server).
#include <string>

#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct CreateTokenOptions {
  std::string role;
  std::string description;
  std::string output;
};
// Prints only the secret on stdout (so `TOKEN=$(fleetctl create token …)` works) and its id on stderr.
int create_token(Session& session, const CreateTokenOptions& options);

int get_tokens(Session& session, const std::string& output);

int delete_token(Session& session, const std::string& id);

}  // namespace fleet::ctl
