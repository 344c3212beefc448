// Inventory reads: the nodes of a cluster and the fleet's GPUs (filters, totals by model).
#include <pqxx/pqxx>

#include "api/continue_token.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/inventory_store.hpp"

namespace fleet {
namespace {

constexpr int kDefaultGpuLimit = 1000;
constexpr int kMaxGpuLimit = 10000;

http::Response list_nodes(Call& call, pqxx::connection_base& conn) {
  const std::string cluster = call.path["name"];
  pqxx::nontransaction txn(conn);  // one SELECT per statement; nodes are written whole
  auto nodes = store::list_node_json(txn, cluster);
  if (!nodes) {
    return problem(call, make_error(ErrorCode::kNotFound, "cluster \"" + cluster + "\" not found", "", "not-found"));
  }
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < nodes->size(); ++i) {
    if (i) body += ",";
    body += (*nodes)[i];  // stored as the validated JSON the agent sent
  }
  body += "]}";
  return json_response(200, body);
}

http::Response list_gpus(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{kDefaultGpuLimit, kMaxGpuLimit, false, {"model", "cluster", "health", "admission"}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  store::GpuFilter filter;
  auto given = [&](const char* key) {
    auto it = params->filters.find(key);
    return it == params->filters.end() ? std::string() : it->second;
  };
  filter.model = given("model");
  filter.cluster = given("cluster");
  filter.health = given("health");
  filter.admission = given("admission");
  std::optional<std::tuple<std::string, std::string, int>> after;
  if (params->after) {
    auto j = nlohmann::json::parse(*params->after, nullptr, false);
    if (!j.is_array() || j.size() != 3 || !j[0].is_string() || !j[1].is_string() || !j[2].is_number_integer()) {
      return problem(call, make_error(ErrorCode::kInvalid, "continue: not a token from a previous page of /v1/gpus",
                                      "continue", "invalid-query"));
    }
    after = std::make_tuple(j[0].get<std::string>(), j[1].get<std::string>(), j[2].get<int>());
  }
  const int limit = params->limit;
  pqxx::read_transaction txn(conn);  // the page and its totals from one snapshot
  auto page = store::list_gpus(txn, filter, after, limit);
  txn.commit();
  nlohmann::json out = {{"items", nlohmann::json::array()}, {"totals", nlohmann::json::object()}};
  std::int64_t total = 0;
  for (const auto& [model, n] : page.totals_by_model) {
    out["totals"][model] = n;
    total += n;
  }
  out["total"] = total;
  for (const auto& row : page.items) {
    auto item = model::to_json(row.gpu);  // the fields an agent reports, named as it reports them
    item["cluster"] = row.cluster;
    item["node"] = row.node;
    item["admission"] = row.admission;
    if (!row.last_probe_json.empty()) item["lastProbe"] = nlohmann::json::parse(row.last_probe_json);
    out["items"].push_back(std::move(item));
  }
  if (page.more && !page.items.empty()) {
    const auto& last = page.items.back();
    out["continue"] = api::encode_continue(nlohmann::json::array({last.cluster, last.node, last.gpu.index}).dump());
  }
  return json_response(200, out.dump());
}

}  // namespace

void register_inventory_routes(ApiService& api) {
  api.add_db_route("GET", "/v1/clusters/{name}/nodes", Role::kViewer, list_nodes);
  api.add_db_route("GET", "/v1/gpus", Role::kViewer, list_gpus);
}

}  // namespace fleet
