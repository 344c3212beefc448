#pragma once
// A finished GPU probe as the agent reports it to fleetd (issue #11): it travels in the heartbeat envelope's
// "probeResults" (protocol/heartbeat.hpp), and fleetd stores it in probe_results, once per (cluster, probeId).
// The report is gpu-probe's own JSON (docs/gpu-probe.md), kept as the agent read it.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::protocol {

inline constexpr std::size_t kMaxProbeResultsPerHeartbeat = 256;
inline constexpr std::size_t kMaxProbeReportBytes = 256 * 1024;  // of compact JSON; a 16-GPU full report is ~40 KiB
inline constexpr std::size_t kMaxProbeIdLength = 128;
inline constexpr std::size_t kMaxProbeReasonLength = 1024;
inline constexpr std::size_t kMaxProbeChecks = 64;

struct ProbeResult {
  std::string probe_id;  // unique per cluster: the agent's idempotency key
  std::string node;
  std::string trigger;  // join | upgrade | schedule | health | manual | repair
  std::vector<std::string> gpu_uuids;
  std::chrono::system_clock::time_point started_at{};
  std::chrono::system_clock::time_point finished_at{};
  std::string verdict;  // pass | warn | fail | could-not-run | not-run
  bool admitted = false;
  std::string reason;
  std::vector<std::string> failed_checks;
  std::string probe_version;             // the report's; "" without one
  std::optional<nlohmann::json> report;  // gpu-probe's report, when the probe wrote one
  bool operator==(const ProbeResult&) const = default;
};

// {"probeId", "node", "trigger", "gpuUuids", "startedAt", "finishedAt", "verdict", "admitted", "reason",
//  "failedChecks", "probeVersion"?, "report"?}. `path` names the member in errors ("probeResults[3]").
nlohmann::json to_json(const ProbeResult& result);
Result<ProbeResult> probe_result_from_json(const nlohmann::json& j, const std::string& path);

bool is_probe_trigger(std::string_view text);
bool is_probe_verdict(std::string_view text);

}  // namespace fleet::protocol
