#include "fleetctl/token_view.hpp"

#include "common/time_format.hpp"
#include "fleetctl/age.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/table.hpp"

namespace fleet::ctl {

std::string token_status(const nlohmann::json& token, std::chrono::system_clock::time_point now) {
  if (!string_field(token, "revokedAt").empty()) return "Revoked";
  if (auto expires = parse_timestamp(string_field(token, "expiresAt")); expires && *expires <= now) return "Expired";
  return "Active";
}

std::string tokens_table(const std::vector<nlohmann::json>& tokens, std::chrono::system_clock::time_point now) {
  std::vector<TableRow> rows;
  rows.reserve(tokens.size());
  for (const auto& t : tokens) {
    const std::string description = string_field(t, "description");
    rows.push_back({string_field(t, "id"), string_field(t, "role"), token_status(t, now),
                    description.empty() ? kNone : description, age_of(string_field(t, "createdAt"), now)});
  }
  return render_table({"ID", "ROLE", "STATUS", "DESCRIPTION", "AGE"}, rows);
}

}  // namespace fleet::ctl
