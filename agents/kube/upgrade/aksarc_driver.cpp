#include "agents/kube/upgrade/aksarc_driver.hpp"

#include <utility>

#include "model/version.hpp"

namespace fleet::agent::kube {
namespace {

using nlohmann::json;

class AksArcDriver final : public UpgradeDriver {
 public:
  explicit AksArcDriver(AksArcDriverOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "aksarc"; }

  UpgradeOutcome upgrade_control_plane(UpgradeContext& ctx, const protocol::UpgradeControlPlane& c) override {
    auto arm = ArmClient::create(options_.arm, *options_.tokens);
    if (!arm) return arm.error();
    const std::string target = model::to_string(c.kubernetes_version);
    ArmStep s = step(ctx, **arm, "the cluster", target);
    // Every node, control plane and pools: the one PUT upgrades them all, and each kubelet says when it has.
    s.pool = kEveryPool;
    s.node_version = target;
    const std::string path = provisioned_cluster_path(options_.connected_cluster);
    ctx.emit("upgrade_progress", "",
             "AKS Arc upgrades the control plane and then every node pool to " + target +
                 " (its API has no control-plane-only upgrade)");
    auto done = converge(
        s, path, [&](const json& instance) { return decide_arc_upgrade(instance, target); }, "PUT",
        [&](const ArmResponse& current) {
          return s.arm.call("PUT", path, provisioned_cluster_put_body(current.body, target), etag_of(current));
        });
    if (!done) return done.error();
    report_nodes(s);
    ctx.emit("control_plane_upgraded", "", "control plane at " + target);
    switch (*done) {
      case Converged::kAlreadyThere:
        return "the AKS Arc cluster is already at " + target;
      case Converged::kResumed:
        return "the AKS Arc cluster upgraded to " + target +
               ", control plane and node pools (an operation already in flight was followed)";
      case Converged::kSent:
      case Converged::kHeld:  // the callers return the hold's message first
        break;
    }
    return "the AKS Arc cluster upgraded to " + target + ", control plane and node pools";
  }

  UpgradeOutcome upgrade_node_pool(UpgradeContext& ctx, const protocol::UpgradeNodePool& c) override {
    if (!c.kubernetes_version) {
      return make_error(ErrorCode::kInvalid,
                        "AKS Arc has no node-image-only upgrade in its published API (a pool's image changes with "
                        "the cluster's Kubernetes version), so pool " +
                            c.pool + " was left as it is",
                        "payload.kubernetesVersion", "unsupported-command");
    }
    auto arm = ArmClient::create(options_.arm, *options_.tokens);
    if (!arm) return arm.error();
    const std::string target = model::to_string(*c.kubernetes_version);
    ArmStep s = step(ctx, **arm, "pool " + c.pool, target);
    s.pool = c.pool;
    s.node_version = target;
    // Nothing is ever sent: the pool follows the instance, so this only waits for it to settle and reads it.
    auto done = converge(
        s, arc_agent_pool_path(options_.connected_cluster, c.pool),
        [&](const json& pool) { return decide_arc_pool(pool, target); }, "PUT",
        [](const ArmResponse&) -> Result<ArmResponse> {
          return make_error(ErrorCode::kInternal, "an AKS Arc pool is never written by the driver");
        });
    if (!done) return done.error();
    report_nodes(s);
    return "AKS Arc pool " + c.pool + " is at " + target + " (pools are upgraded with the cluster)";
  }

 private:
  ArmStep step(UpgradeContext& ctx, ArmClient& arm, std::string what, std::string target) const {
    return arm_step(ctx, arm, options_.polling, "AKS Arc", std::move(what), std::move(target), options_.step_timeout);
  }

  AksArcDriverOptions options_;
};

}  // namespace

std::unique_ptr<UpgradeDriver> make_aksarc_driver(AksArcDriverOptions options) {
  return std::make_unique<AksArcDriver>(std::move(options));
}

}  // namespace fleet::agent::kube
