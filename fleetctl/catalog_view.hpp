#pragma once
// How the version catalog looks on a terminal (issue #12 item 1): `get versions`. Input is GET /v1/versions items,
// read tolerantly: a missing field shows as <none>, never an exception.
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::ctl {

// supported | out-of-support | retired | upcoming: what the entry is at `now`.
std::string version_status(const nlohmann::json& entry, std::chrono::system_clock::time_point now);

// ">= 535.104.5, <= 570.195.3", ">= 570.86.10", "any".
std::string driver_range_text(const nlohmann::json& gpu_driver);

// KIND PROVIDER VERSION OS-FAMILY RELEASED END-OF-SUPPORT GPU-DRIVER STATUS; wide adds REGIONS and NOTES.
std::string versions_table(const std::vector<nlohmann::json>& entries, bool wide,
                           std::chrono::system_clock::time_point now);

}  // namespace fleet::ctl
