#pragma once
// What an agent read back about a workload it applied (issue #15 item 4): the state of the objects of one
// workload on its cluster, as one readiness. It travels in the heartbeat's "workloadStatuses" whenever it changes
// (kept until fleetd took the heartbeat, like probe results); fleetd keeps the latest per (cluster, workload) and
// the placement loop moves the binding Applied → Running on Ready, and Applied or Running → Failed on Failed.
// The sim backend sends none: its bindings run when its inventory shows their GPUs in use.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::protocol {

inline constexpr std::size_t kMaxWorkloadStatusesPerHeartbeat = 256;
inline constexpr std::size_t kMaxWorkloadStatusMessageBytes = 1024;

enum class WorkloadReadiness { kProgressing, kReady, kFailed };
std::string_view to_string(WorkloadReadiness readiness);  // "Progressing" | "Ready" | "Failed"
std::optional<WorkloadReadiness> parse_workload_readiness(std::string_view text);

struct WorkloadStatus {
  std::string workload;         // the objects' fleet.io/workload label: the workload's name
  std::int64_t generation = 0;  // their fleet.io/generation label (the lowest, when they differ)
  WorkloadReadiness state = WorkloadReadiness::kProgressing;
  std::string message;  // why not ready, or why it failed ("Job train/llama: BackoffLimitExceeded: …")
  bool operator==(const WorkloadStatus&) const = default;
};

// {"workload", "generation", "state", "message"?}
nlohmann::json to_json(const WorkloadStatus& status);
// Unknown members, a name that is not a DNS-1123 subdomain, a generation below 1 or a message over 1 KiB →
// kInvalid naming the member under `path`.
Result<WorkloadStatus> workload_status_from_json(const nlohmann::json& j, const std::string& path);

}  // namespace fleet::protocol
