#pragma once
// Route registration for every endpoint fleetd serves. Each group lives in its own file.
#include <functional>
#include <string>

#include "fleetd/api_service.hpp"

namespace fleet {

void register_cluster_routes(ApiService& api);
void register_token_routes(ApiService& api);
void register_agent_routes(ApiService& api);
void register_inventory_routes(ApiService& api);

struct SystemInfo {
  std::string version;
  std::string commit;
  std::string build_date;
  // For /readyz: runs on a database worker; ok when the database answers and the schema is current.
  std::function<Status(pqxx::connection_base&)> readiness;
};
void register_system_routes(ApiService& api, Metrics& metrics, SystemInfo info);

// The `limit` query parameter of a list: a whole number from 1 to `max`, else invalid-query naming the range.
Result<int> parse_limit(const std::string& value, int max);

// If-Match: "<n>", <n>, W/"<n>" or *. nullopt when absent or *; an Error when malformed.
Result<std::optional<std::int64_t>> parse_if_match(const Call& call);

}  // namespace fleet
