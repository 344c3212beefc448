#pragma once
// How GPU admission looks on a terminal (issue #11): `get probes` and `describe node`. Input is the server's JSON
// (GET /v1/probes items; a node of GET /v1/clusters/{name}/nodes and its newest probe with the report), read
// tolerantly: a missing field shows as <none>, never an exception.
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::ctl {

// CLUSTER NODE VERDICT TRIGGER FAILED-CHECKS DURATION AGE; wide adds MODEL PROBE-ID REASON.
std::string probes_table(const std::vector<nlohmann::json>& probes, bool wide,
                         std::chrono::system_clock::time_point now);

// The node (name, pool, admission, taints, GPUs), its last probe, and that probe's report as a per-check table:
// GPU CHECK STATUS MEASURED THRESHOLD MESSAGE, node checks first. `probe` is null when the node was never probed.
std::string describe_node(const std::string& cluster, const nlohmann::json& node, const nlohmann::json& probe,
                          std::chrono::system_clock::time_point now);

// One check's threshold as read: ">= 2680 GB/s (warn 3015)", "= 0", "" when it has none.
std::string threshold_text(const nlohmann::json& check);

}  // namespace fleet::ctl
