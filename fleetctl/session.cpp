#include "fleetctl/session.hpp"

#include <unistd.h>
#include <cstdlib>
#include <ostream>
#include <thread>

#include "fleetctl/exit_codes.hpp"
#include "fleetctl/problem.hpp"
#include "fleetctl/version.hpp"

namespace fleet::ctl {
namespace {

std::optional<std::string> getenv_opt(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::optional<std::string>(value) : std::nullopt;
}

}  // namespace

Environment system_environment() {
  Environment env;
  env.fleetctl_config = getenv_opt("FLEETCTL_CONFIG");
  env.home = getenv_opt("HOME");
  env.fleetctl_token = getenv_opt("FLEETCTL_TOKEN");
  env.now = [] { return std::chrono::system_clock::now(); };
  env.make_client = [](http::ClientOptions options) { return http::Client::create(std::move(options)); };
  env.sleep = [](std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); };
  env.stdout_is_tty = ::isatty(STDOUT_FILENO) == 1;
  return env;
}

std::string Session::config_path() const {
  return global_.config_path.empty() ? default_config_path(env_.fleetctl_config, env_.home) : global_.config_path;
}

Result<ApiClient*> Session::api() {
  if (api_) return api_.get();
  auto config = load_config(config_path());
  if (!config) return config.error();
  auto connection = resolve_connection(*config, global_.overrides);
  if (!connection) return connection.error();
  http::ClientOptions options;
  options.base_url = connection->server;
  options.ca_file = connection->ca_file;
  options.timeout = std::chrono::seconds(global_.request_timeout_seconds);
  options.allow_plain_http = global_.insecure_http;
  options.user_agent = "fleetctl/" + std::string(client_version());
  auto client = env_.make_client(std::move(options));
  if (!client) return client.error();
  api_ = std::make_unique<ApiClient>(std::move(client.value()), connection->token);
  return api_.get();
}

int Session::fail(const Error& error) {
  err() << render_error(error) << "\n";
  return to_int(exit_code_for(error));
}

}  // namespace fleet::ctl
