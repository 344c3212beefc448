#pragma once
// `fleetctl config view | get-contexts | current-context | use-context | set-context`: local reads and edits of the
// config file; they never contact a server, and print a token only when `config view --raw` asks for it.
#include <optional>
#include <string>

#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct ConfigViewOptions {
  bool raw = false;     // tokens as they are; otherwise REDACTED (kubectl's word), so the output can be shared
  bool minify = false;  // only the context in use (--context, else the current one)
  std::string output;   // yaml (default) or json
};
// The file as fleetctl reads it: relative CA files resolved, tokens redacted unless --raw.
int config_view(Session& session, const ConfigViewOptions& options);

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
