#pragma once
// The `get tokens` table. Tokens never carry their secret in a list; only `create token` prints one.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fleet::ctl {

std::string tokens_table(const std::vector<nlohmann::json>& tokens, std::chrono::system_clock::time_point now);

}  // namespace fleet::ctl
