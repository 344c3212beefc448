#pragma once
// A real fleetd for integration tests: its own temporary data directory (embedded PostgreSQL) or an external
// database URL, an ephemeral port, and an HTTP client with the admin token.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration-tests/child_process.hpp"
#include "net/http_client.hpp"

namespace fleet::itest {

// A directory under /tmp that the postgres user can traverse; removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct FleetdOptions {
  FleetdOptions(std::filesystem::path dir, std::string url = {}, std::vector<std::string> extra = {},  // NOLINT
                std::string token = {})
      : data_dir(std::move(dir)),
        database_url(std::move(url)),
        extra_args(std::move(extra)),
        admin_token(std::move(token)) {}
  std::filesystem::path data_dir;  // embedded mode when database_url is empty
  std::string database_url;
  std::vector<std::string> extra_args;
  std::string admin_token;  // with an external database: a token made with `fleetd token create`
  std::string listen = "127.0.0.1:0";
  // Set → fleetd serves HTTPS (by --tls auto or extra_args): base_url() is https:// and the test's client and the
  // readiness check verify the server against this CA (for --tls auto: data_dir / "tls" / "ca.crt"). A wildcard
  // listen address is dialled as 127.0.0.1.
  std::string ca_file;
};

class FleetdProcess {
 public:
  explicit FleetdProcess(FleetdOptions options);  // starts and waits until /readyz answers 200
  ~FleetdProcess();

  const std::string& base_url() const { return base_url_; }
  const std::string& admin_token() const { return admin_token_; }
  const std::filesystem::path& log_path() const { return log_path_; }
  // A libpq connection string for fleetd's database: the external URL, or the embedded server's socket (from its
  // postmaster.pid) while it runs.
  std::string database_url() const;
  ChildProcess& process() { return *process_; }

  // Request with the admin token unless `token` is given ("" = no Authorization header).
  http::ClientResponse call(const std::string& method, const std::string& path, const std::string& body = "",
                            http::Headers headers = {}, std::optional<std::string> token = std::nullopt);
  nlohmann::json call_json(const std::string& method, const std::string& path, const std::string& body = "",
                           int expect_status = 200);
  // Every item of a paged list: GETs `path` (with its own `?limit=`) and follows `continue` to the last page.
  nlohmann::json list_all(const std::string& path);

  void kill9();
  int terminate();  // SIGTERM and wait; the exit code
  void restart();   // start again with the same options (after kill9/terminate)

 private:
  void start();
  FleetdOptions options_;
  std::filesystem::path log_path_;
  std::filesystem::path port_file_;
  std::unique_ptr<ChildProcess> process_;
  std::string base_url_;
  std::string admin_token_;
  std::unique_ptr<http::Client> client_;
};

std::string fleetd_binary();
// An admin token made offline with `fleetd token create` against `database_url` (which also migrates the database),
// for replicas on an external database; throws with fleetd's stderr when that fails.
std::string create_admin_token(const std::string& database_url);
std::string fleetctl_binary();

// The value of one series in fleetd's /metrics text, named as printed ("fleetd_x_total",
// "fleetd_y_total{reason=\"unknown\"}"), or -1 when absent. `token`
// as in FleetdProcess::call ("" sends none: /metrics needs none, and a test whose database is failing on purpose
// cannot check a token).
double metric_value(FleetdProcess& fleetd, const std::string& series, std::optional<std::string> token = std::nullopt);

// Creates an AKS cluster, mints a bootstrap token and registers its agent: the agent's credential.
std::string register_agent(FleetdProcess& fleetd, const std::string& cluster);

}  // namespace fleet::itest
