#pragma once
// An admission policy's settings as JSON, the same shape in fleetd's /v1/admission-policies objects and in what
// an agent reads for its cluster (GET /v1/agents/{cluster}/admission-policy):
//   {"mode": "quick"|"full", "thresholds": {gpu-probe override document}, "reprobeIntervalSeconds",
//    "maxConcurrentProbes": {"nodes", "percent"}, "probeTimeoutSeconds", "busyRetrySeconds"}
// Every member is optional and defaults as AdmissionPolicy does. The thresholds are checked by gpu-probe's own
// override reader (gpu-probe/core/sku_table.hpp), so a policy fleetd accepts is one every probe accepts.
#include <string>

#include <nlohmann/json.hpp>

#include "admission/admission_policy.hpp"
#include "common/error.hpp"

namespace fleet::admission {

inline constexpr std::size_t kMaxThresholdsBytes = 16 * 1024;

nlohmann::json to_json(const AdmissionPolicy& policy);
// Errors are kInvalid and name the member under `path` ("settings.mode").
Result<AdmissionPolicy> admission_policy_from_json(const nlohmann::json& j, const std::string& path);

}  // namespace fleet::admission
