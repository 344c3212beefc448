// The JSON request bodies of the API: the first byte picks an endpoint's decoder, the rest is the body. Every body
// goes through api::parse_json_body (media type, size, UTF-8, depth, duplicate names) and then the decoder the
// handler calls. Decoders that fleetd also uses to read its own rows back must accept what their encoder wrote.
// The few handlers that read a body field by field (tokens, bootstrap tokens, agent registration, a reason) use
// model/json_read.hpp's readers, which every decoder here uses too.
#include <array>
#include <string>

#include "admission/admission_policy_json.hpp"
#include "api/cluster_json.hpp"
#include "api/json_body.hpp"
#include "fuzz/fuzz_target.hpp"
#include "fuzz/round_trip.hpp"
#include "model/json_read.hpp"
#include "placement/workload_json.hpp"
#include "protocol/command_kind.hpp"
#include "protocol/command_payloads.hpp"
#include "protocol/command_report.hpp"
#include "protocol/probe_result.hpp"
#include "protocol/unguarded_node.hpp"
#include "rollout/strategy_json.hpp"
#include "rollout/version_catalog.hpp"

namespace {

using nlohmann::json;
using namespace fleet;

void cluster_create(const json& body) {
  (void)api::parse_cluster_create(body);
}

void command_report(const json& body) {
  fuzz::check_round_trip(
      protocol::report_from_json(body), [](const auto& r) { return protocol::to_json(r); },
      [](const json& j) { return protocol::report_from_json(j); });
}

void strategy(const json& body) {
  fuzz::check_round_trip(
      rollout::strategy_from_json(body, ""), [](const auto& s) { return rollout::to_json(s); },
      [](const json& j) { return rollout::strategy_from_json(j, ""); });
}

void run_spec(const json& body) {
  auto spec = rollout::run_spec_from_json(body);
  if (spec) (void)rollout::to_json(*spec).dump();
}

void catalog_entry(const json& body) {
  fuzz::check_round_trip(
      rollout::catalog_entry_from_json(body, ""), [](const auto& e) { return rollout::to_json(e); },
      [](const json& j) { return rollout::catalog_entry_from_json(j, ""); });
}

void admission_policy(const json& body) {
  fuzz::check_round_trip(
      admission::admission_policy_from_json(body, ""), [](const auto& p) { return admission::to_json(p); },
      [](const json& j) { return admission::admission_policy_from_json(j, ""); });
}

void workload(const json& body) {
  auto doc = placement::workload_from_json(body);
  if (!doc) return;
  // The spec is stored alone and read back with workload_spec_from_json.
  fuzz::check_round_trip(
      Result<placement::Workload>(doc->workload), [](const auto& w) { return placement::to_json(w); },
      [](const json& j) { return placement::workload_spec_from_json(j); });
}

void command_create(const json& body) {
  // POST /v1/clusters/{name}/commands: {"kind", "payload"}; the payload decoder is chosen by the kind.
  if (!body.is_object()) return;
  auto kind_name = model::required_string(body, "kind", "");
  if (!kind_name) return;
  auto kind = protocol::parse_command_kind(*kind_name);
  if (!kind) return;
  const json payload = body.contains("payload") ? body["payload"] : json::object();
  fuzz::check_round_trip(
      protocol::parse_command_payload(*kind, payload), [](const auto& p) { return protocol::to_json(p); },
      [&](const json& j) { return protocol::parse_command_payload(*kind, j); });
}

void probe_result(const json& body) {
  fuzz::check_round_trip(
      protocol::probe_result_from_json(body, ""), [](const auto& r) { return protocol::to_json(r); },
      [](const json& j) { return protocol::probe_result_from_json(j, ""); });
}

void unguarded_node(const json& body) {
  fuzz::check_round_trip(
      protocol::unguarded_node_from_json(body, ""), [](const auto& n) { return protocol::to_json(n); },
      [](const json& j) { return protocol::unguarded_node_from_json(j, ""); });
}

void field_readers(const json& body) {
  // The shapes of the small bodies (token create, bootstrap token, agent registration, an action's reason).
  (void)model::reject_unknown_fields(body, {"role", "description", "ttlSeconds", "agentVersion", "reason"}, "");
  (void)model::optional_string(body, "description", "");
  (void)model::optional_integer(body, "ttlSeconds", "", 60, 86400);
  (void)model::optional_labels(body, "labels", "");
  (void)model::optional_taints(body, "taints", "", true);
  (void)model::optional_number(body, "ratio", "", 0.0, 1.0);
  (void)model::optional_uint64(body, "sequence", "");
}

using Decoder = void (*)(const json&);
constexpr std::array<Decoder, 11> kDecoders = {cluster_create, command_report,   strategy,     run_spec,
                                               catalog_entry,  admission_policy, workload,     command_create,
                                               probe_result,   unguarded_node,   field_readers};

}  // namespace

FLEET_FUZZ_HARNESS(request_bodies) {
  if (data.empty()) return;
  const auto decoder = kDecoders[static_cast<unsigned char>(data[0]) % kDecoders.size()];
  http::Request request;
  request.headers["content-type"] = "application/json; charset=utf-8";
  request.body = std::string(data.substr(1));
  auto body = api::parse_json_body(request, {"application/json"});
  if (!body) {
    FUZZ_CHECK(!body.error().message.empty());
    return;
  }
  decoder(*body);
}
