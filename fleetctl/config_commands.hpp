#pragma once
// `fleetctl config get-contexts | current-context | use-context | set-context`: local edits of the config file;
// they never contact a server and never print tokens.
#include <optional>
#include <string>

#include "fleetctl/session.hpp"

namespace fleet::ctl {

int get_contexts(Session& session);
int current_context(Session& session);
int use_context(Session& session, const std::string& name);

struct SetContextOptions {
  std::string name;
  std::optional<std::string> server;
  std::optional<std::string> token;
  std::optional<std::string> ca_file;
};
// Creates (needs --server) or updates only the given fields. The first context created becomes the current one.
int set_context(Session& session, const SetContextOptions& options);

}  // namespace fleet::ctl
