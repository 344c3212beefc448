#include "fleetctl/config_commands.hpp"

#include <filesystem>
#include <ostream>

#include "fleetctl/table.hpp"
#include "fleetctl/yaml_output.hpp"

namespace fleet::ctl {
namespace {

Error usage(std::string message) {
  return make_error(ErrorCode::kInvalid, std::move(message));
}

bool looks_like_server_url(const std::string& url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

}  // namespace

int config_view(Session& session, const ConfigViewOptions& options) {
  auto config = load_config(session.config_path());
  if (!config) return session.fail(config.error());
  if (options.minify) {
    const std::string in_use = session.overrides().context.value_or(config->current_context);
    const Context* context = config->find(in_use);
    if (context == nullptr) {
      return session.fail(make_error(ErrorCode::kNotFound, in_use.empty() ? "--minify: no current context is set"
                                                                          : "--minify: no context named \"" + in_use +
                                                                                "\" in " + session.config_path()));
    }
    config->contexts = {*context};
    config->current_context = in_use;
  }
  if (!options.raw) {
    for (auto& c : config->contexts) {
      if (!c.token.empty()) c.token = "REDACTED";
    }
  }
  const nlohmann::json doc = config_document(*config);
  if (options.output == "json") {
    session.out() << doc.dump(2) << "\n";
  } else {
    session.out() << to_yaml(doc);
  }
  return 0;
}

int get_contexts(Session& session) {
  auto config = load_config(session.config_path());
  if (!config) return session.fail(config.error());
  if (config->contexts.empty()) {
    session.err() << "No contexts found in " << session.config_path()
                  << "; create one with `fleetctl config set-context NAME --server URL`.\n";
    return 0;
  }
  std::vector<TableRow> rows;
  for (const auto& c : config->contexts) {
    rows.push_back(
        {c.name == config->current_context ? "*" : "", c.name, c.server, c.ca_file.empty() ? kNone : c.ca_file});
  }
  session.out() << render_table({"CURRENT", "NAME", "SERVER", "CA-FILE"}, rows);
  return 0;
}

int current_context(Session& session) {
  auto config = load_config(session.config_path());
  if (!config) return session.fail(config.error());
  if (config->current_context.empty()) {
    return session.fail(make_error(ErrorCode::kNotFound, "current-context is not set"));
  }
  session.out() << config->current_context << "\n";
  return 0;
}

int use_context(Session& session, const std::string& name) {
  auto config = load_config(session.config_path());
  if (!config) return session.fail(config.error());
  if (!config->find(name)) {
    return session.fail(make_error(ErrorCode::kNotFound, "no context named \"" + name + "\""));
  }
  config->current_context = name;
  if (auto s = save_config(*config, session.config_path()); !s) return session.fail(s.error());
  session.out() << "Switched to context \"" << name << "\".\n";
  return 0;
}

int set_context(Session& session, const SetContextOptions& options) {
  if (options.name.empty()) return session.fail(usage("a context name is required"));
  if (options.server && !looks_like_server_url(*options.server)) {
    return session.fail(usage("--server must start with http:// or https://, not \"" + *options.server + "\""));
  }
  auto config = load_config(session.config_path());
  if (!config) return session.fail(config.error());
  Context* context = config->find(options.name);
  const bool created = context == nullptr;
  if (created) {
    if (!options.server) return session.fail(usage("--server is required for a new context"));
    config->contexts.push_back(Context{options.name, "", "", ""});
    context = &config->contexts.back();
  }
  if (options.server) context->server = *options.server;
  if (options.token) context->token = *options.token;
  if (options.ca_file) {
    // Stored absolute: the file is read later from wherever fleetctl runs.
    std::error_code ec;
    const auto absolute =
        options.ca_file->empty() ? std::filesystem::path() : std::filesystem::absolute(*options.ca_file, ec);
    context->ca_file = ec ? *options.ca_file : absolute.string();
  }
  if (config->current_context.empty()) config->current_context = options.name;
  if (auto s = save_config(*config, session.config_path()); !s) return session.fail(s.error());
  session.out() << "Context \"" << options.name << "\" " << (created ? "created" : "modified") << ".\n";
  return 0;
}

}  // namespace fleet::ctl
