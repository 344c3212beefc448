#pragma once
// One change of an Azure Resource Manager resource followed to its end, for the drivers that upgrade through ARM
// (aks: managed clusters and their agent pools; aksarc: an Arc-enabled cluster's provisioned cluster instance).
// converge() reads the resource, asks the driver's pure decision what to do (send, follow an operation already in
// flight, nothing, wait for another operation), sends, and follows the long-running operation through
// Azure-AsyncOperation, Location or the resource's own provisioningState (arm_lro.hpp); a 409 "another operation is
// in progress" or a stale etag reads and sends again, transient failures are retried, and all of it stays within
// the step's deadline. Progress goes out as the events every driver reports (upgrade_driver.hpp).
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agents/kube/upgrade/aks_requests.hpp"
#include "agents/kube/upgrade/arm_client.hpp"
#include "agents/kube/upgrade/upgrade_driver.hpp"

namespace fleet::agent::kube {

// How often to poll and how long to wait; the drivers' options carry these.
struct ArmPolling {
  std::chrono::milliseconds poll_interval{15000};  // without Retry-After
  std::chrono::milliseconds poll_floor{2000};      // every wait is within [floor, cap]
  std::chrono::milliseconds poll_cap{60000};
  std::chrono::milliseconds busy_retry{30000};  // after a 409, or while another operation runs
};

// One step (the control plane, a pool, a node image, a pool created or deleted) with its deadline and what it has
// reported so far.
struct ArmStep {
  UpgradeContext& ctx;
  ArmClient& arm;
  ArmPolling polling;
  std::string provider;  // "AKS", "AKS Arc": how messages name who does the work
  std::string what;      // "the control plane", "pool gpu", "the node image of pool gpu"
  std::string target;    // for messages
  std::chrono::steady_clock::time_point deadline;
  std::string pool;                                  // per-node progress (kEveryPool: every node); empty: none
  std::string node_version;                          // a node of the pool is upgraded at this kubelet version …
  std::map<std::string, std::string> images_before;  // … or (node image) once its image changed
  std::map<std::string, bool> nodes_reported;
  std::string last_state;
  bool absent_ok = false;     // a 404 is the resource's state (null), not an error: pools created or deleted
  bool gone_is_done = false;  // a deletion: the resource answering 404 is its end
  std::string accepted_text;  // the upgrade_started event; empty → "<provider> accepted the upgrade of …"
  // Asked once, just before converge() would send its first request: an Error ends the step, true holds it with
  // nothing sent (Converged::kHeld). The aks driver's planned maintenance check.
  std::function<Result<bool>()> before_send;
};
ArmStep arm_step(UpgradeContext& ctx, ArmClient& arm, const ArmPolling& polling, std::string provider, std::string what,
                 std::string target, std::chrono::milliseconds step_timeout);

// Sleeps `delay`, or until the deadline; an Error (type upgrade-timeout, or agent-stopping) when the deadline has
// passed or the backend is stopping.
Status wait(ArmStep& s, std::chrono::milliseconds delay);
// node_upgraded events and nodesTotal/nodesDone from the node cache, for a step with a pool.
void report_nodes(ArmStep& s);
// GET with transient failures (transport, 429, 5xx) retried until the deadline; 404 is kNotFound.
Result<ArmResponse> get_resource(ArmStep& s, const std::string& path);

std::string etag_of(const ArmResponse& response);
std::string provisioning_state(const nlohmann::json& resource);

enum class Converged { kAlreadyThere, kSent, kResumed, kHeld };
using Decide = std::function<Result<UpgradeDecision>(const nlohmann::json& resource)>;  // null: absent (absent_ok)
using Send = std::function<Result<ArmResponse>(const ArmResponse& current)>;
// Read, decide, act, until the resource is where the step wants it. An accepted request or a followed operation
// that succeeds ends the step (the operation's own verdict is the authority); another operation in flight, a 409, a
// stale etag or a transient failure reads again after a wait.
Result<Converged> converge(ArmStep& s, const std::string& path, const Decide& decide, const std::string& method,
                           const Send& send);

}  // namespace fleet::agent::kube
