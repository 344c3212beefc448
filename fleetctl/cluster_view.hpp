#pragma once
// How clusters look on a terminal: the `get clusters` table (and its -o wide columns) and `describe cluster`.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fleet::ctl {

std::string clusters_table(const std::vector<nlohmann::json>& clusters, bool wide,
                           std::chrono::system_clock::time_point now);

// kubectl-describe-like "Key:   value" lines; multi-valued fields continue on indented lines.
std::string describe_cluster(const nlohmann::json& cluster, std::chrono::system_clock::time_point now);

// "env=prod,tier=gold" (sorted by key) and "dedicated=ml:NoSchedule,gpu:NoExecute"; "" when none.
std::string labels_text(const nlohmann::json& labels, const char* separator = ",");
std::string taints_text(const nlohmann::json& taints, const char* separator = ",");

}  // namespace fleet::ctl
