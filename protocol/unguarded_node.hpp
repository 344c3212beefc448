#pragma once
// A GPU node an agent found schedulable before admission could guard it (issue #11): it joined without
// fleet.io/gpu-unverified (the kubelet's --register-with-taints or the AKS node-pool taint was missing) and had no
// recorded admission. The agent taints it at once and reports for how long it was open and whether pods landed
// on it; this travels in the heartbeat's "unguardedNodes" and becomes a metric and an audited event in fleetd.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::protocol {

inline constexpr std::size_t kMaxUnguardedPerHeartbeat = 256;
inline constexpr std::size_t kMaxUnguardedPodNames = 10;

struct UnguardedNode {
  std::string node;
  std::chrono::system_clock::time_point seen_at{};  // when the agent found it (and tainted it)
  std::optional<double> seconds;                    // schedulable that long (from its creation); unknown: absent
  std::optional<int> pods;                          // workload pods found on it; unknown: absent
  std::vector<std::string> pod_names;               // the first of them, "namespace/name"
  bool operator==(const UnguardedNode&) const = default;
};

// {"node", "seenAt", "seconds"?, "pods"?, "podNames"?}
nlohmann::json to_json(const UnguardedNode& node);
Result<UnguardedNode> unguarded_node_from_json(const nlohmann::json& j, const std::string& path);

}  // namespace fleet::protocol
