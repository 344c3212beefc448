#pragma once
// Test doubles for fleetctl: a scripted in-memory http::Client and a harness that runs the command line with
// captured streams, a fixed clock and a temporary config file.
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/time_format.hpp"
#include "fleetctl/app.hpp"
#include "fleetctl/session.hpp"
#include "net/http_client.hpp"

namespace fleet::ctl::testing {

struct SeenRequest {
  std::string method;
  std::string target;
  http::Headers headers;
  std::string body;
};

using FakeHandler = std::function<Result<http::ClientResponse>(const SeenRequest&)>;

inline http::ClientResponse json_response(int status, const std::string& body, http::Headers headers = {}) {
  headers.emplace("content-type", status >= 400 ? "application/problem+json" : "application/json");
  return http::ClientResponse{status, std::move(headers), body};
}

inline std::string problem(const std::string& slug, int status, const std::string& detail,
                           const std::string& field = "") {
  std::string body = R"({"type":"urn:fleetd:problem:)" + slug + R"(","title":"t","status":)" + std::to_string(status) +
                     R"(,"detail":")" + detail + "\"";
  if (!field.empty()) body += R"(,"field":")" + field + "\"";
  return body + "}";
}

class FakeClient final : public http::Client {
 public:
  FakeClient(FakeHandler handler, std::vector<SeenRequest>* seen) : handler_(std::move(handler)), seen_(seen) {}
  Result<http::ClientResponse> request(const std::string& method, const std::string& target,
                                       const http::Headers& headers, const std::string& body) override {
    SeenRequest req{method, target, headers, body};
    seen_->push_back(req);
    return handler_(req);
  }

 private:
  FakeHandler handler_;
  std::vector<SeenRequest>* seen_;
};

inline std::chrono::system_clock::time_point test_now() {
  return *parse_timestamp("2026-11-23T12:00:00.000Z");
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("fleetctl_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int exit_code;
  std::string out;
  std::string err;
};

// Runs fleetctl against `handler` with --server pointing at the fake (unless the args name another config).
class Harness {
 public:
  explicit Harness(FakeHandler handler = nullptr) : handler_(std::move(handler)) {
    env_.home = dir_.path().string();
    env_.now = [] { return test_now(); };
    env_.make_client = [this](http::ClientOptions options) -> Result<std::unique_ptr<http::Client>> {
      last_options_ = options;
      if (!handler_)
        return make_error(ErrorCode::kUnavailable, "cannot reach " + options.base_url + ": connection refused");
      return std::unique_ptr<http::Client>(std::make_unique<FakeClient>(handler_, &seen_));
    };
  }

  RunResult run(std::vector<std::string> args, const std::string& stdin_text = "") {
    return run_in(env_, args, stdin_text);
  }
  // With a server flag and $FLEETCTL_TOKEN so commands need no config file.
  RunResult run_with_server(std::vector<std::string> args) {
    args.insert(args.end(), {"--server", "http://fleet.test:8080"});
    Environment env = env_;
    env.fleetctl_token = "secret";
    return run_in(env, args, "");
  }

  Environment& env() { return env_; }
  const std::vector<SeenRequest>& seen() const { return seen_; }
  const http::ClientOptions& last_options() const { return last_options_; }
  std::filesystem::path dir() const { return dir_.path(); }

 private:
  static RunResult run_in(const Environment& env, const std::vector<std::string>& args, const std::string& stdin_text) {
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    const int rc = run_fleetctl(args, Io{in, out, err}, env);
    return {rc, out.str(), err.str()};
  }

  TempDir dir_;
  FakeHandler handler_;
  Environment env_;
  std::vector<SeenRequest> seen_;
  http::ClientOptions last_options_;
};

}  // namespace fleet::ctl::testing
