#include "agents/health_server.hpp"

#include <chrono>
#include <thread>

#include "common/log.hpp"
#include "net/http_server.hpp"
#include "net/listen_address.hpp"

namespace fleet::agent {
namespace {

http::Response text(int status, std::string body, std::string content_type, std::string route) {
  http::Response r;
  r.status = status;
  r.headers["content-type"] = std::move(content_type);
  r.body = std::move(body);
  r.route = std::move(route);
  return r;
}

http::Response answer(const http::Request& req, const std::function<AgentHealthSnapshot()>& snapshot) {
  const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  if (req.method != "GET" && req.method != "HEAD") {
    auto r = text(405, "only GET and HEAD\n", "text/plain; charset=utf-8", "other");
    r.headers["allow"] = "GET, HEAD";
    return r;
  }
  if (path == "/healthz") return text(200, "ok\n", "text/plain; charset=utf-8", "/healthz");
  if (path == "/readyz") {
    HealthAnswer a = readiness(snapshot(), std::chrono::system_clock::now());
    return text(a.status, std::move(a.body), "text/plain; charset=utf-8", "/readyz");
  }
  if (path == "/metrics") {
    return text(200, render_agent_metrics(snapshot(), read_process_stats()), "text/plain; version=0.0.4; charset=utf-8",
                "/metrics");
  }
  return text(404, "not found: /healthz, /readyz and /metrics are served here\n", "text/plain; charset=utf-8",
              "unmatched");
}

class Served final : public HealthServer {
 public:
  explicit Served(std::unique_ptr<http::Server> server) : server_(std::move(server)) {
    thread_ = std::thread([this] { server_->run(); });
  }
  ~Served() override {
    server_->shutdown(std::chrono::milliseconds(500));
    thread_.join();
  }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;
  std::string bound_address() const override { return server_->bound_address(); }

 private:
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<HealthServer>> HealthServer::start(const std::string& listen,
                                                          std::function<AgentHealthSnapshot()> snapshot) {
  auto address = http::parse_listen_address(listen, "--health-listen");
  if (!address) return address.error();
  http::ServerOptions options;
  options.host = address->first;
  options.port = address->second;
  options.threads = 1;
  // Probes and a scrape only: small limits, and no request needs a body.
  options.limits.max_body_bytes = 1024;
  options.limits.max_header_bytes = 8 * 1024;
  options.limits.max_connections = 64;
  options.limits.handler_timeout = std::chrono::seconds(5);
  auto server = http::Server::create(
      options, [snapshot = std::move(snapshot)](const http::Request& req, const http::Respond& respond) {
        respond(answer(req, snapshot));
      });
  if (!server) return server.error();
  log::info("health port serving", {{"address", (*server)->bound_address()}});
  return std::unique_ptr<HealthServer>(std::make_unique<Served>(std::move(*server)));
}

}  // namespace fleet::agent
