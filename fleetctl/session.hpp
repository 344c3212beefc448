#pragma once
// What one fleetctl invocation shares between its command functions: the streams, the injected environment
// (config location, clock, HTTP client factory — the seams tests use), the global flags, and the API client,
// created on first use so `config` commands never need a server.
#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "fleetctl/api_client.hpp"
#include "fleetctl/config.hpp"
#include "net/http_client.hpp"

namespace fleet::ctl {

struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

using ClientFactory = std::function<Result<std::unique_ptr<http::Client>>(http::ClientOptions)>;

struct Environment {
  std::optional<std::string> fleetctl_config;  // $FLEETCTL_CONFIG
  std::optional<std::string> home;             // $HOME
  std::optional<std::string> fleetctl_token;   // $FLEETCTL_TOKEN: a token kept off the command line
  std::function<std::chrono::system_clock::time_point()> now;
  ClientFactory make_client;
  // How `--watch` waits between polls: tests advance their clock here instead of sleeping. Unset → no wait.
  std::function<void(std::chrono::milliseconds)> sleep;
  bool stdout_is_tty = false;  // whether output may carry terminal control codes (redrawing in place)
  // Whether `get|describe --watch` should stop now (tests: after N polls or a time on their clock). Unset → never:
  // Ctrl-C ends the process, as it does kubectl's.
  std::function<bool()> interrupted;
};

// The real process environment, clock and Beast client.
Environment system_environment();

struct GlobalOptions {
  std::string config_path;  // empty → default_config_path(...)
  ConnectionOverrides overrides;
  int request_timeout_seconds = 30;
  bool insecure_http = false;  // --insecure-http: plain http:// to a non-loopback fleetd
};

class Session {
 public:
  Session(Io io, const Environment& env, GlobalOptions global) : io_(io), env_(env), global_(std::move(global)) {}

  std::ostream& out() { return out_ ? *out_ : io_.out; }
  std::ostream& err() { return err_ ? *err_ : io_.err; }
  // --watch renders each poll into buffers to compare them: while set, out() and err() write there. nullptr restores.
  void capture(std::ostream* out, std::ostream* err) {
    out_ = out;
    err_ = err;
  }
  bool interrupted() const { return env_.interrupted && env_.interrupted(); }
  std::istream& in() { return io_.in; }
  std::chrono::system_clock::time_point now() const { return env_.now(); }
  void sleep_for(std::chrono::milliseconds duration) const {
    if (env_.sleep) env_.sleep(duration);
  }
  bool stdout_is_tty() const { return env_.stdout_is_tty; }
  std::string config_path() const;
  const ConnectionOverrides& overrides() const { return global_.overrides; }

  // Loads the config, resolves the connection and creates the client, once.
  Result<ApiClient*> api();

  // Prints the error's one line on stderr and returns the exit code for it.
  int fail(const Error& error);

 private:
  Io io_;
  const Environment& env_;
  GlobalOptions global_;
  std::unique_ptr<ApiClient> api_;
  std::ostream* out_ = nullptr;
  std::ostream* err_ = nullptr;
};

}  // namespace fleet::ctl
