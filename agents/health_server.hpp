#pragma once
// fleet-agent's health port (--health-listen HOST:PORT): GET /healthz (200 while the process serves),
// /readyz and /metrics from agent_health.hpp, over plain HTTP on its own thread. Meant for the kubelet's probes and
// a Prometheus scrape inside the member cluster; it serves nothing else and takes no request body.
#include <functional>
#include <memory>
#include <string>

#include "agents/agent_health.hpp"
#include "common/error.hpp"

namespace fleet::agent {

class HealthServer {
 public:
  // Binds at once (an address in use is an error here) and serves until destroyed. snapshot is called on the
  // server's thread for every /readyz and /metrics request.
  static Result<std::unique_ptr<HealthServer>> start(const std::string& listen,
                                                     std::function<AgentHealthSnapshot()> snapshot);
  virtual ~HealthServer() = default;
  virtual std::string bound_address() const = 0;
};

}  // namespace fleet::agent
