#pragma once
// How overrides (issue #15 item 2) look on a terminal: the `get overrides` table, `describe override`, and the
// overrides a binding was applied with as `describe placement` shows them. Input is the server's JSON (docs/api.md
// "Overrides"), read tolerantly: a missing field shows as "-" or <none>.
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::ctl {

// NAME WORKLOADS RULES GENERATION AGE.
std::string overrides_table(const std::vector<nlohmann::json>& overrides, std::chrono::system_clock::time_point now);

// The workloads, then each rule: its cluster selector and its operations, one a line ("replace
// /0/spec/replicas = 3"), values as compact JSON cut at 80 characters.
std::string describe_override(const nlohmann::json& override, std::chrono::system_clock::time_point now);

// A binding's `overrides` record: "gpu-images (rules 0,1); eu-replicas (rule 0)", or "-" when it has none.
std::string applied_overrides_text(const nlohmann::json& applied);

}  // namespace fleet::ctl
