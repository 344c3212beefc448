#include "integration-tests/fleetd_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fleet::itest {
namespace fs = std::filesystem;

namespace {

// The response contract test (api/tests/contract) validates what fleetd really answered against api/openapi.yaml:
// with FLEET_CONTRACT_LOG set, every exchange of call() is appended to that file as one JSON line. One write() of an
// O_APPEND file per line, so that test processes running side by side never interleave their lines.
void record_exchange(const std::string& method, const std::string& path, const http::Headers& request_headers,
                     const std::string& request_body, const http::ClientResponse& r) {
  const char* log = std::getenv("FLEET_CONTRACT_LOG");
  if (log == nullptr || *log == '\0') return;
  auto header = [](const http::Headers& headers, const char* name) {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  };
  nlohmann::json line = {{"method", method},
                         {"path", path},
                         {"status", r.status},
                         {"contentType", header(r.headers, "content-type")},
                         {"allow", header(r.headers, "allow")},
                         {"body", r.body}};
  // The request too, so that the validator can check the spec's request schemas accept what fleetd accepted; a
  // large cluster's heartbeat (up to 16 MiB) is left out.
  if (request_body.size() <= 1024 * 1024) {
    line["requestContentType"] = header(request_headers, "content-type");
    line["requestBody"] = request_body;
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  int fd = ::open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(std::string("FLEET_CONTRACT_LOG: cannot open ") + log);
  ssize_t written = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size())) throw std::runtime_error("FLEET_CONTRACT_LOG: short write");
}

}  // namespace

std::string create_admin_token(const std::string& database_url) {
  auto made = run_command({fleetd_binary(), "token", "create", "--role", "admin", "--database-url", database_url});
  if (made.exit_code != 0) throw std::runtime_error("fleetd token create failed: " + made.err);
  return made.out.substr(0, made.out.find('\n'));
}

std::string fleetd_binary() {
  return FLEETD_BINARY;
}
std::string fleetctl_binary() {
  return FLEETCTL_BINARY;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/fleet-it-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  ::chmod(tmpl, 0755);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

FleetdProcess::FleetdProcess(FleetdOptions options) : options_(std::move(options)) {
  if (options_.data_dir.empty()) throw std::runtime_error("FleetdOptions.data_dir is required (logs go there)");
  fs::create_directories(options_.data_dir);
  log_path_ = options_.data_dir / "fleetd.log";
  port_file_ = options_.data_dir / "fleetd.port";
  start();
}

std::string FleetdProcess::database_url() const {
  if (!options_.database_url.empty()) return options_.database_url;
  // PostgreSQL's postmaster.pid: pid, data dir, start time, port, socket dir, …
  std::ifstream pid_file(options_.data_dir / "pg" / "postmaster.pid");
  std::vector<std::string> lines(5);
  for (auto& line : lines) std::getline(pid_file, line);
  return "host=" + lines[4] + " port=" + lines[3] + " dbname=fleet user=fleet";
}

FleetdProcess::~FleetdProcess() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    if (process_->wait(std::chrono::seconds(30)) < 0) process_->signal(SIGKILL);
  }
}

void FleetdProcess::start() {
  std::error_code ec;
  fs::remove(port_file_, ec);
  std::vector<std::string> argv = {
      fleetd_binary(), "--listen",         options_.listen, "--data-dir", options_.data_dir.string(),
      "--port-file",   port_file_.string()};
  if (!options_.database_url.empty()) {
    argv.push_back("--database-url");
    argv.push_back(options_.database_url);
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  process_ = std::make_unique<ChildProcess>(argv, log_path_.string());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  std::string address;
  while (address.empty()) {
    if (!process_->running()) throw std::runtime_error("fleetd exited during start; see " + log_path_.string());
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("fleetd did not start in 90 s");
    std::ifstream in(port_file_);
    std::getline(in, address);
    if (address.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (address.rfind("0.0.0.0:", 0) == 0) address = "127.0.0.1" + address.substr(7);
  base_url_ = (options_.ca_file.empty() ? "http://" : "https://") + address;
  admin_token_ = options_.admin_token;
  if (admin_token_.empty()) {
    // The embedded mode writes the admin token just after the port file: wait for it too.
    fs::path token_file = options_.data_dir / "fleetctl.json";
    while (admin_token_.empty() && std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(options_.data_dir / "admin-token");
      std::getline(in, admin_token_);
      if (admin_token_.empty() || !fs::exists(token_file)) {
        admin_token_.clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  http::ClientOptions client_options;
  client_options.base_url = base_url_;
  client_options.ca_file = options_.ca_file;
  client_options.timeout = std::chrono::milliseconds(30000);
  auto client = http::Client::create(client_options);
  if (!client) throw std::runtime_error("client: " + client.error().message);
  client_ = std::move(*client);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client_->request("GET", "/readyz");
    if (r && r->status == 200) {
      record_exchange("GET", "/readyz", {}, "", *r);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("fleetd never became ready");
}

http::ClientResponse FleetdProcess::call(const std::string& method, const std::string& path, const std::string& body,
                                         http::Headers headers, std::optional<std::string> token) {
  std::string t = token ? *token : admin_token_;
  if (!t.empty()) headers["authorization"] = "Bearer " + t;
  if (!body.empty() && !headers.count("content-type")) headers["content-type"] = "application/json";
  auto r = client_->request(method, path, headers, body);
  if (!r) throw std::runtime_error("request failed: " + r.error().message);
  record_exchange(method, path, headers, body, *r);
  return std::move(*r);
}

nlohmann::json FleetdProcess::call_json(const std::string& method, const std::string& path, const std::string& body,
                                        int expect_status) {
  auto r = call(method, path, body);
  if (r.status != expect_status) {
    throw std::runtime_error(method + " " + path + ": status " + std::to_string(r.status) + " body " + r.body);
  }
  return r.body.empty() ? nlohmann::json() : nlohmann::json::parse(r.body);
}

nlohmann::json FleetdProcess::list_all(const std::string& path) {
  nlohmann::json items = nlohmann::json::array();
  const char* const separator = path.find('?') == std::string::npos ? "?" : "&";
  std::string cont;
  do {
    auto page = call_json("GET", cont.empty() ? path : path + separator + "continue=" + cont);
    for (auto& item : page["items"]) items.push_back(std::move(item));
    cont = page.value("continue", "");
  } while (!cont.empty());
  return items;
}

void FleetdProcess::kill9() {
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(10));
  client_.reset();
}

int FleetdProcess::terminate() {
  process_->signal(SIGTERM);
  int rc = process_->wait(std::chrono::seconds(60));
  client_.reset();
  return rc;
}

void FleetdProcess::restart() {
  // The same port as before: agents and other clients hold the URL, as they would in production.
  const auto colon = options_.listen.rfind(':');
  const auto port_at = base_url_.rfind(':');
  if (colon != std::string::npos && options_.listen.substr(colon) == ":0" && port_at != std::string::npos) {
    options_.listen = options_.listen.substr(0, colon) + base_url_.substr(port_at);
  }
  start();
}

double metric_value(FleetdProcess& fleetd, const std::string& series, std::optional<std::string> token) {
  std::istringstream text(fleetd.call("GET", "/metrics", "", {}, std::move(token)).body);
  for (std::string line; std::getline(text, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::string register_agent(FleetdProcess& fleetd, const std::string& cluster) {
  fleetd.call_json("POST", "/v1/clusters", nlohmann::json{{"name", cluster}, {"provider", "aks"}}.dump(), 201);
  auto bootstrap = fleetd.call_json("POST", "/v1/clusters/" + cluster + "/bootstrap-tokens", "", 201)["token"];
  auto reg = fleetd.call("POST", "/v1/agents/register", "", {}, bootstrap.get<std::string>());
  if (reg.status != 200) throw std::runtime_error("registration of " + cluster + " failed: " + reg.body);
  return nlohmann::json::parse(reg.body)["credential"].get<std::string>();
}

}  // namespace fleet::itest
