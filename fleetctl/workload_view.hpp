#pragma once
// How workloads (issue #14) look on a terminal: the `get workloads` table and `describe workload`. Input is the
// server's JSON (docs/api.md "Workloads"), read tolerantly: a missing field shows as "-" or <none>.
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::ctl {

// "PickAll", "PickN(2)", "PickFixed(3)": the policy type with how many clusters it picks.
std::string policy_text(const nlohmann::json& policy);

// NAME REPLICAS GPUS/REPLICA POLICY STATE AGE; wide adds DIVISION GPU-MODELS GENERATION.
std::string workloads_table(const std::vector<nlohmann::json>& workloads, bool wide,
                            std::chrono::system_clock::time_point now);

// "Key:  value" lines: the spec (resources, versions, policy with affinity, tolerations and spread), the
// manifests as kind/name, generation, resourceVersion and times.
std::string describe_workload(const nlohmann::json& workload, std::chrono::system_clock::time_point now);

// The section `describe workload` ends with (issue #15 item 5): the decision in one line with each binding's
// state, then the last `kDescribedEvents` of the workload's events (GET /v1/workloads/{name}/events, oldest first)
// as AGE TYPE CLUSTER MESSAGE, every decision and move with its reason. `placement` null: not read (`unavailable`
// says why, e.g. an older fleetd); an empty `unavailable` and a null placement: not decided yet.
inline constexpr std::size_t kDescribedEvents = 20;
std::string workload_placement_section(const nlohmann::json& placement, const std::vector<nlohmann::json>& events,
                                       const std::string& unavailable, std::chrono::system_clock::time_point now);

// `fleetctl describe placement NAME`: GET /v1/workloads/{name}/placement as a summary, the bindings as a table
// (CLUSTER REPLICAS STATE NODES, and OVERRIDES when an override patched any) and every rejected cluster with its
// code and reason.
std::string describe_placement(const nlohmann::json& placement, std::chrono::system_clock::time_point now);

}  // namespace fleet::ctl
