#include "fleetctl/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fleetctl/json_fields.hpp"

namespace fleet::ctl {
namespace {

namespace fs = std::filesystem;

Error file_error(const std::string& what, const std::string& path, const std::string& why) {
  return make_error(ErrorCode::kInternal, what + " \"" + path + "\": " + why);
}

}  // namespace

const Context* Config::find(const std::string& name) const {
  for (const auto& c : contexts) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Context* Config::find(const std::string& name) {
  return const_cast<Context*>(static_cast<const Config*>(this)->find(name));
}

std::string default_config_path(const std::optional<std::string>& fleetctl_config_env,
                                const std::optional<std::string>& home) {
  if (fleetctl_config_env && !fleetctl_config_env->empty()) return *fleetctl_config_env;
  const fs::path base = home && !home->empty() ? fs::path(*home) : fs::path(".");
  return (base / ".fleet" / "config.json").string();
}

Result<Config> load_config(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Config{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return file_error("cannot read the config file", path, std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  const auto doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return file_error("cannot parse the config file", path, "expected a JSON object");
  }
  Config config;
  config.current_context = string_field(doc, "currentContext");
  const auto& contexts = member_or_null(doc, "contexts");
  if (!contexts.is_null() && !contexts.is_array()) {
    return file_error("cannot parse the config file", path, "\"contexts\" must be an array");
  }
  const fs::path folder = fs::path(path).parent_path();
  for (const auto& c : contexts.is_array() ? contexts : nlohmann::json::array()) {
    Context context{string_field(c, "name"), string_field(c, "server"), string_field(c, "token"),
                    string_field(c, "caFile")};
    if (context.name.empty()) return file_error("cannot parse the config file", path, "a context has no name");
    if (!context.ca_file.empty() && fs::path(context.ca_file).is_relative()) {
      context.ca_file = (folder / context.ca_file).string();
    }
    config.contexts.push_back(std::move(context));
  }
  return config;
}

nlohmann::json config_document(const Config& config) {
  nlohmann::json doc = {{"currentContext", config.current_context}, {"contexts", nlohmann::json::array()}};
  for (const auto& c : config.contexts) {
    doc["contexts"].push_back({{"name", c.name}, {"server", c.server}, {"token", c.token}, {"caFile", c.ca_file}});
  }
  return doc;
}

Status save_config(const Config& config, const std::string& path) {
  const std::string text = config_document(config).dump(2) + "\n";

  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path() && !fs::exists(target.parent_path(), ec)) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) return file_error("cannot create the folder of", path, ec.message());
    fs::permissions(target.parent_path(), fs::perms::owner_all, ec);
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return file_error("cannot write the config file", path, std::strerror(errno));
  ::fchmod(fd, 0600);  // O_CREAT's mode does not apply to a file left over from an earlier run
  std::size_t written = 0;
  while (written < text.size()) {
    const auto n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return file_error("cannot write the config file", path, why);
    }
    written += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return file_error("cannot write the config file", path, why);
  }
  return Ok{};
}

Result<Connection> resolve_connection(const Config& config, const ConnectionOverrides& overrides) {
  Connection conn;
  const std::string name = overrides.context ? *overrides.context : config.current_context;
  if (!name.empty()) {
    const Context* context = config.find(name);
    if (context) {
      conn = Connection{context->name, context->server, context->token, context->ca_file};
    } else if (overrides.context || !overrides.server) {
      return make_error(ErrorCode::kInvalid,
                        "no context named \"" + name + "\" in the config file; see `fleetctl config get-contexts`");
    }
  }
  if (overrides.server) conn.server = *overrides.server;
  if (overrides.token) conn.token = *overrides.token;
  if (overrides.ca_file) conn.ca_file = *overrides.ca_file;
  if (conn.server.empty()) {
    return make_error(ErrorCode::kInvalid,
                      "no server configured: pass --server URL, or run `fleetctl config set-context NAME --server URL`"
                      " and `fleetctl config use-context NAME`");
  }
  return conn;
}

}  // namespace fleet::ctl
