#pragma once
// The cluster record as the API and the store share it: plain data, no behaviour.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fleet::model {

using Labels = std::map<std::string, std::string>;

struct Taint {
  std::string key;
  std::string value;   // may be empty
  std::string effect;  // "NoSchedule" | "PreferNoSchedule" | "NoExecute"
  bool operator==(const Taint&) const = default;
};

// Lifecycle states (DESIGN §3). A cluster is `registering` until its agent's first heartbeat.
inline constexpr const char* kClusterStates[] = {"registering", "ready", "unreachable", "cordoned", "deleting"};
inline constexpr const char* kProviders[] = {"aks", "arc"};

struct Cluster {
  std::string id;  // uuid
  std::string name;
  std::string provider;
  std::string region;
  Labels labels;
  std::vector<Taint> taints;
  std::string update_group;
  std::string kubernetes_version;
  std::string node_image_version;
  std::string state = "registering";
  std::optional<std::chrono::system_clock::time_point> last_heartbeat;
  std::string agent_version;  // as the cluster's agent last reported it; empty before an agent registers
  std::int64_t resource_version = 0;
  std::chrono::system_clock::time_point created_at;
  std::chrono::system_clock::time_point updated_at;
};

// POST /v1/clusters, validated.
struct ClusterCreate {
  std::string name;
  std::string provider;
  std::string region;
  Labels labels;
  std::vector<Taint> taints;
  std::string update_group;
};

// PATCH /v1/clusters/{name} (JSON merge patch), validated. Absent = unchanged. For labels, a key mapped to
// nullopt is removed (merge patch null); taints and the scalars are replaced whole.
struct ClusterPatch {
  std::optional<std::map<std::string, std::optional<std::string>>> labels;
  std::optional<std::vector<Taint>> taints;
  std::optional<std::string> region;
  std::optional<std::string> update_group;
};

}  // namespace fleet::model
