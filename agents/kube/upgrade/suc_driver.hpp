#pragma once
// The system-upgrade-controller upgrade driver, for k3s and RKE2 clusters (Arc-enabled or not) that run
// rancher/system-upgrade-controller: each step is one Plan (suc_plan.hpp) server-side applied through the member
// cluster's API server, then followed through the Plan's status (Complete, latestVersion, applying) and the
// nodes' kubelet versions in the node cache. Before applying, the Plan is read: one already asking for the same
// version (this agent restarted mid-upgrade) is followed, not applied again; an apply answered 409 reads the Plan
// again and decides again. Every step has a deadline. The controller cordons and drains; an upgrade Job of the Plan
// that failed for good (its Failed condition) fails the command at once, naming the node, which stays as the
// controller left it (cordoned); the Plan stays. At a pool step's notAfter (a maintenance window's end) the Plan is
// applied again selecting only the nodes done and in hand: those finish, no other starts, and the command ends
// succeeded and `stopped`; the step sent again in the next window selects the whole pool again.
#include <chrono>
#include <memory>
#include <string>

#include "agents/kube/upgrade/suc_plan.hpp"
#include "agents/kube/upgrade/upgrade_driver.hpp"

namespace fleet::agent::kube {

struct SucDriverOptions {
  SucPlanOptions plan;
  std::string field_manager = "fleet-agent";
  std::chrono::milliseconds poll_interval{10000};
  std::chrono::milliseconds step_timeout{std::chrono::hours(4)};
};

std::unique_ptr<UpgradeDriver> make_suc_driver(SucDriverOptions options);

}  // namespace fleet::agent::kube
