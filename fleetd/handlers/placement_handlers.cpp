// What the placement loop decided (issue #14 item 5): a workload's placement with each binding's state as the
// agents report it and every rejected cluster's reason, its events (issue #15 item 5: every decision and move,
// with its reason), and a cluster's GPU capacity by model and block size. Read-only; viewers may read all three.
#include <pqxx/pqxx>

#include "common/time_format.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/placement_snapshot.hpp"
#include "fleetd/store/placement_store.hpp"
#include "fleetd/store/workload_event_store.hpp"
#include "fleetd/store/workload_store.hpp"
#include "placement/cluster_capacity.hpp"

namespace fleet {
namespace {

using nlohmann::json;

http::Response get_placement(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::read_transaction txn(conn);
  const std::optional<store::PlacementView> view = store::load_placement(txn, name);
  txn.commit();
  if (!view) {
    return problem(call, make_error(ErrorCode::kNotFound, "workload " + name + " does not exist", "", "not-found"));
  }
  json bindings = json::array();
  for (const store::StoredBinding& b : view->bindings) {
    json nodes = json::array();
    for (const placement::NodeShare& share : b.nodes)
      nodes.push_back({{"node", share.node}, {"replicas", share.replicas}});
    json binding = {{"cluster", b.cluster},
                    {"replicas", b.replicas},
                    {"state", b.state},
                    {"nodes", std::move(nodes)},
                    {"generation", b.generation},
                    {"overrides", b.overrides}};  // issue #15 item 2: what its last apply was patched with
    if (auto it = view->messages.find(b.seq); it != view->messages.end()) binding["message"] = it->second;
    if (!b.command_id.empty()) binding["command"] = b.command_id;
    bindings.push_back(std::move(binding));
  }
  json out = {{"workload", name},
              {"state", view->workload_state},
              {"generation", view->generation},
              {"bindings", std::move(bindings)},
              {"rejected", json::array()}};
  if (view->decided_generation) out["decidedGeneration"] = *view->decided_generation;
  if (view->decided_at) out["decidedAt"] = *view->decided_at;
  if (view->decision && view->decision->is_object()) {
    const json& d = *view->decision;
    out["rejected"] = d.value("rejected", json::array());
    out["replicasWanted"] = d.value("replicasWanted", 0);
    out["replicasBound"] = d.value("replicasBound", 0);
    out["decision"] = d.value("state", "");
    // Model fit and cost hints (issue #15 item 3), computed with the decision: GPU workloads only.
    if (d.contains("hints") && d["hints"].is_object()) out["hints"] = d["hints"];
  }
  return json_response(200, out.dump());
}

http::Response list_workload_events(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  auto params = parse_seq_list_params(call, kEventListSpec);
  if (!params) return problem(call, params.error());
  pqxx::read_transaction txn(conn);
  if (!store::workload_exists(txn, name)) {
    return problem(call, make_error(ErrorCode::kNotFound, "workload " + name + " does not exist", "", "not-found"));
  }
  const std::vector<store::StoredWorkloadEvent> rows =
      store::list_workload_events(txn, name, params->seq, params->limit + 1);
  txn.commit();
  const json out = seq_page(rows, params->limit, [](const store::StoredWorkloadEvent& e) {
    json item = {{"seq", e.seq},
                 {"at", format_rfc3339(e.at)},
                 {"generation", e.generation},
                 {"type", e.event.type},
                 {"message", e.event.message}};
    if (!e.event.cluster.empty()) item["cluster"] = e.event.cluster;
    return item;
  });
  return json_response(200, out.dump());
}

http::Response get_capacity(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::read_transaction txn(conn);
  std::optional<store::ClusterWithNodes> cluster = store::load_cluster_with_nodes(txn, name);
  if (!cluster) {
    txn.commit();
    return problem(call, make_error(ErrorCode::kNotFound, "cluster " + name + " does not exist", "", "not-found"));
  }
  const store::BoundByNode bound = store::bound_by_node(store::bound_node_takes(txn, name));
  const store::PoolSet pools = store::pools_being_upgraded(txn);
  txn.commit();
  const placement::Snapshot snapshot = store::build_snapshot({*cluster}, bound, pools);
  return json_response(200, placement::cluster_capacity_json(snapshot.clusters.front()).dump());
}

}  // namespace

void register_placement_routes(ApiService& api) {
  api.add_db_route("GET", "/v1/workloads/{name}/placement", Role::kViewer, get_placement);
  api.add_db_route("GET", "/v1/workloads/{name}/events", Role::kViewer, list_workload_events);
  api.add_db_route("GET", "/v1/clusters/{name}/capacity", Role::kViewer, get_capacity);
}

}  // namespace fleet
