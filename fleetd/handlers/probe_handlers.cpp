// GPU probe results (issue #11): the fleet's (filters: verdict, cluster, model, check, since), one with its report,
// and a node's newest first with their reports. Agents write them with their heartbeats (heartbeat_handlers.cpp).
#include <charconv>
#include <pqxx/pqxx>

#include "api/continue_token.hpp"
#include "common/time_format.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/cluster_store.hpp"
#include "fleetd/store/probe_store.hpp"
#include "protocol/probe_result.hpp"

namespace fleet {
namespace {

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 1000;
constexpr int kDefaultNodeLimit = 10;
constexpr int kMaxNodeLimit = 100;  // with reports of up to 256 KiB each

Error invalid_query(const std::string& param, const std::string& message) {
  return make_error(ErrorCode::kInvalid, param + ": " + message, param, "invalid-query");
}

Result<std::int64_t> positive_integer(const std::string& text, const std::string& param) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0) return invalid_query(param, "not valid here");
  return v;
}

// The page's query: filters, `since` and the keyset.
Result<store::ProbeFilter> probe_filter(const ListParams& params) {
  store::ProbeFilter f;
  f.limit = params.limit;
  auto given = [&](const char* key) {
    auto it = params.filters.find(key);
    return it == params.filters.end() ? std::string() : it->second;
  };
  f.cluster = given("cluster");
  f.model = given("model");
  f.check = given("check");
  f.verdict = given("verdict");
  if (!f.verdict.empty() && !protocol::is_probe_verdict(f.verdict)) {
    return invalid_query("verdict", "must be pass, warn, fail, could-not-run or not-run");
  }
  if (auto since = given("since"); !since.empty()) {
    auto t = parse_timestamp(since);
    if (!t) return invalid_query("since", "must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z");
    f.since_epoch = std::chrono::duration<double>(t->time_since_epoch()).count();
  }
  if (params.after) {
    auto id = positive_integer(*params.after, "continue");
    if (!id) return id.error();
    f.before_id = *id;
  }
  return f;
}

http::Response page_response(const store::ProbePage& page) {
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    if (i) body += ",";
    body += page.items[i];  // built as JSON by the query
  }
  body += "]";
  if (page.more && page.last_id) {
    body += ",\"continue\":" + nlohmann::json(api::encode_continue(std::to_string(*page.last_id))).dump();
  }
  body += "}";
  return json_response(200, body);
}

http::Response list_probes(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{kDefaultLimit, kMaxLimit, false, {"verdict", "cluster", "model", "check", "since"}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  auto filter = probe_filter(*params);
  if (!filter) return problem(call, filter.error());
  pqxx::nontransaction txn(conn);
  auto page = store::list_probe_results(txn, *filter);
  txn.commit();
  return page_response(page);
}

http::Response get_probe(Call& call, pqxx::connection_base& conn) {
  const std::string id_text = call.path["id"];
  // An id that is no number names no result either: the same 404.
  std::optional<std::string> found;
  if (auto id = positive_integer(id_text, "id")) {
    pqxx::nontransaction txn(conn);
    found = store::get_probe_result(txn, *id);
    txn.commit();
  }
  if (!found) {
    return problem(call,
                   make_error(ErrorCode::kNotFound, "probe result \"" + id_text + "\" not found", "", "not-found"));
  }
  return json_response(200, *found);
}

http::Response list_node_probes(Call& call, pqxx::connection_base& conn) {
  static const ListParamSpec kSpec{kDefaultNodeLimit, kMaxNodeLimit, false, {"verdict"}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  auto filter = probe_filter(*params);
  if (!filter) return problem(call, filter.error());
  filter->cluster = call.path["name"];
  filter->node = call.path["node"];
  filter->with_report = true;
  pqxx::nontransaction txn(conn);
  if (!store::cluster_exists(txn, filter->cluster)) {
    return problem(call,
                   make_error(ErrorCode::kNotFound, "cluster \"" + filter->cluster + "\" not found", "", "not-found"));
  }
  auto page = store::list_probe_results(txn, *filter);
  txn.commit();
  return page_response(page);
}

}  // namespace

void register_probe_routes(ApiService& api) {
  api.add_db_route("GET", "/v1/probes", Role::kViewer, list_probes);
  api.add_db_route("GET", "/v1/probes/{id}", Role::kViewer, get_probe);
  api.add_db_route("GET", "/v1/clusters/{name}/nodes/{node}/probes", Role::kViewer, list_node_probes);
}

}  // namespace fleet
