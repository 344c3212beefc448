#pragma once
// The client configuration: a JSON file of named contexts (server, token, CA file) and the current one, like a
// small kubeconfig. fleetd writes one for its embedded mode; `fleetctl config …` edits it.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::ctl {

struct Context {
  std::string name;
  std::string server;  // "http://127.0.0.1:8080"
  std::string token;
  std::string ca_file;  // PEM; empty → the system trust store
  bool operator==(const Context&) const = default;
};

struct Config {
  std::string current_context;
  std::vector<Context> contexts;

  const Context* find(const std::string& name) const;
  Context* find(const std::string& name);
};

// $FLEETCTL_CONFIG when set and non-empty, else $HOME/.fleet/config.json (else ./.fleet/config.json).
std::string default_config_path(const std::optional<std::string>& fleetctl_config_env,
                                const std::optional<std::string>& home);

// A missing file is an empty Config (first use); an unreadable or malformed one is an Error naming the file.
// A relative caFile is taken relative to the file's folder.
Result<Config> load_config(const std::string& path);

// The file's JSON document: {"currentContext", "contexts": [{"name", "server", "token", "caFile"}]}.
nlohmann::json config_document(const Config& config);

// Writes atomically (temporary file + rename) with mode 0600, creating the folder (0700) when missing: the file
// holds bearer tokens.
Status save_config(const Config& config, const std::string& path);

// The flags that override the file.
struct ConnectionOverrides {
  std::optional<std::string> context;
  std::optional<std::string> server;
  std::optional<std::string> token;
  std::optional<std::string> ca_file;
};

struct Connection {
  std::string context;  // empty when none was used
  std::string server;
  std::string token;
  std::string ca_file;
};

// --context picks the context (else currentContext); --server, --token and --ca-file override its fields.
// No server at all, or an unknown --context, is kInvalid (a usage error) saying how to fix it.
Result<Connection> resolve_connection(const Config& config, const ConnectionOverrides& overrides);

}  // namespace fleet::ctl
