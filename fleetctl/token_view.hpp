#pragma once
// The `get tokens` table. Tokens never carry their secret in a list; only `create token` prints one.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fleet::ctl {

// "Revoked" when revokedAt is set, "Expired" when an expiresAt is past (API tokens have none today; kept for when
// they do), else "Active".
std::string token_status(const nlohmann::json& token, std::chrono::system_clock::time_point now);

// ID ROLE STATUS DESCRIPTION AGE.
std::string tokens_table(const std::vector<nlohmann::json>& tokens, std::chrono::system_clock::time_point now);

}  // namespace fleet::ctl
