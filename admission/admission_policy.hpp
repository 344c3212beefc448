#pragma once
// How a cluster admits its GPU nodes (issue #11; fleetd's admission policy objects carry it to the agents): the
// probe's mode and thresholds, how often an admitted node is proven again, how many nodes may probe at once and
// how long a probe may take.
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace fleet::admission {

struct AdmissionPolicy {
  std::string mode = "quick";                            // gpu-probe --quick | --full
  nlohmann::json thresholds = nlohmann::json::object();  // overrides passed to gpu-probe; empty: its SKU table
  std::chrono::seconds reprobe_interval{7 * 24 * 3600};  // an admitted node is proven again this often
  // A probe takes a node's GPUs off work: at most max(max_probing_nodes, max_probing_percent of the cluster's GPU
  // nodes, rounded up) probe at once.
  int max_probing_nodes = 1;
  int max_probing_percent = 10;
  // From the start of the probe (its Job created) to its report; a probe that waits for GPUs counts too.
  std::chrono::seconds probe_timeout{600};
  // A probe whose node's GPUs are at work (GpusBusy) is tried again this much later; a routine re-probe leaves the
  // node admitted meanwhile.
  std::chrono::seconds busy_retry{1800};
  bool operator==(const AdmissionPolicy&) const = default;
};

// How many of `gpu_nodes` may probe at once under `policy` (at least 1).
int max_concurrent_probes(const AdmissionPolicy& policy, int gpu_nodes);

}  // namespace fleet::admission
