#pragma once
// A TEST DOUBLE of rancher/system-upgrade-controller, not the controller: a thread that every few milliseconds reads
// the named Plans (upgrade.cattle.io/v1) stored in a KubeApiDouble, selects nodes the way a Plan's nodeSelector does
// (matchLabels; matchExpressions with In, NotIn, Exists, DoesNotExist), takes the first selected node whose kubelet is
// not at spec.version (status.applying), upgrades it on the next round (its kubeletVersion becomes spec.version, as
// the controller's upgrade Job would leave it), and writes the Plan's status as the controller does: latestVersion
// ('+' munged to '-'), latestHash, applying, and a Complete condition once no selected node is left. No Jobs, no
// cordon or drain, no concurrency beyond one node. hold(true) keeps the node in hand applying.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "agents/kube/testing/kube_api_double.hpp"

namespace fleet::agent::kube::testing {

class SucControllerDouble {
 public:
  // `plans`: the Plans' paths, "/apis/upgrade.cattle.io/v1/namespaces/system-upgrade/plans/fleet-control-plane", ….
  // `hold`: as hold(true) from the first round.
  SucControllerDouble(KubeApiDouble& api, std::vector<std::string> plans, bool hold = false);
  ~SucControllerDouble();
  SucControllerDouble(const SucControllerDouble&) = delete;
  SucControllerDouble& operator=(const SucControllerDouble&) = delete;

  void hold(bool on) { hold_ = on; }
  int upgraded() const { return upgraded_; }  // nodes it has upgraded so far

 private:
  void loop();
  void reconcile(const std::string& path);

  KubeApiDouble& api_;
  std::vector<std::string> plans_;
  std::atomic<bool> hold_{false};
  std::atomic<int> upgraded_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace fleet::agent::kube::testing
