#include "fleetctl/probe_commands.hpp"

#include <utility>
#include <vector>

#include "fleetctl/json_fields.hpp"
#include "fleetctl/list_output.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/probe_view.hpp"
#include "fleetctl/problem.hpp"
#include "model/names.hpp"
#include "net/url_encode.hpp"

namespace fleet::ctl {
namespace {

constexpr std::size_t kDefaultProbeLimit = 100;

Error usage(std::string message) {
  return make_error(ErrorCode::kInvalid, std::move(message));
}

struct NodeRef {
  std::string cluster, node;
};

// "CLUSTER/NODE", each checked as the server would, so a typo is a usage error rather than a 404.
Result<NodeRef> parse_node_ref(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos || text.find('/', slash + 1) != std::string::npos) {
    return usage("expected CLUSTER/NODE, got \"" + text + "\"");
  }
  NodeRef ref{text.substr(0, slash), text.substr(slash + 1)};
  if (auto problem = model::dns1123_label_problem(ref.cluster); !problem.empty()) {
    return usage("invalid cluster name \"" + ref.cluster + "\": " + problem);
  }
  if (auto s = model::validate_dns1123_subdomain(ref.node, "node"); !s) {
    return usage("invalid node name \"" + ref.node + "\": " + s.error().message);
  }
  return ref;
}

std::string node_path(const NodeRef& ref) {
  return "/v1/clusters/" + http::url_encode(ref.cluster) + "/nodes/" + http::url_encode(ref.node);
}

}  // namespace

int get_probes(Session& session, const GetProbesOptions& options) {
  const bool wide = parse_output_format(options.list.output) == OutputFormat::kWide;
  if (options.limit && *options.limit == 0) return session.fail(usage("--limit must be at least 1"));
  std::string query;
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"cluster", options.cluster},
                                   {"verdict", options.verdict},
                                   {"model", options.model},
                                   {"check", options.check},
                                   {"since", options.since}}) {
    if (!value.empty()) query += (query.empty() ? "" : "&") + std::string(key) + "=" + http::url_encode(value);
  }
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto items = (*api)->list("/v1/probes", query, options.limit.value_or(kDefaultProbeLimit));
  if (!items) return session.fail(items.error());
  const auto now = session.now();
  return print_list(session, std::move(*items), options.list, "probe",
                    [&](const std::vector<nlohmann::json>& rows) { return probes_table(rows, wide, now); });
}

int describe_node_command(Session& session, const std::string& cluster_slash_node, const std::string& output) {
  auto ref = parse_node_ref(cluster_slash_node);
  if (!ref) return session.fail(ref.error());
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto nodes = (*api)->list("/v1/clusters/" + http::url_encode(ref->cluster) + "/nodes", "", std::nullopt, false);
  if (!nodes) return session.fail(nodes.error());
  const nlohmann::json* node = nullptr;
  for (const auto& n : *nodes) {
    if (string_field(n, "name") == ref->node) node = &n;
  }
  if (!node) {
    return session.fail(make_error(
        ErrorCode::kNotFound, "cluster \"" + ref->cluster + "\" has no node \"" + ref->node + "\"", "", "not-found"));
  }
  auto probes = (*api)->call("GET", node_path(*ref) + "/probes?limit=1");
  if (!probes) return session.fail(probes.error());
  const auto& items = member_or_null(probes->body, "items");
  const nlohmann::json probe = items.is_array() && !items.empty() ? items[0] : nlohmann::json(nullptr);
  if (!output.empty()) {
    const auto format = parse_output_format(output).value_or(OutputFormat::kJson);
    session.out() << render_document({{"node", *node}, {"lastProbe", probe}}, format);
    return 0;
  }
  session.out() << describe_node(ref->cluster, *node, probe, session.now());
  return 0;
}

int node_admission_command(Session& session, NodeAdmissionAction action, const std::string& cluster_slash_node,
                           const std::string& reason) {
  auto ref = parse_node_ref(cluster_slash_node);
  if (!ref) return session.fail(ref.error());
  if (action != NodeAdmissionAction::kProbe && reason.empty()) {
    return session.fail(usage("--reason is required: say why the probe's verdict is overridden"));
  }
  const char* verb = action == NodeAdmissionAction::kProbe   ? ":probe"
                     : action == NodeAdmissionAction::kAdmit ? ":admit"
                                                             : ":quarantine";
  auto api = session.api();
  if (!api) return session.fail(api.error());
  nlohmann::json body = nlohmann::json::object();
  if (!reason.empty()) body["reason"] = reason;
  auto response = (*api)->call("POST", node_path(*ref) + verb, body);
  if (!response) return session.fail(response.error());
  const char* what = action == NodeAdmissionAction::kProbe   ? "probe requested"
                     : action == NodeAdmissionAction::kAdmit ? "admission requested"
                                                             : "quarantine requested";
  session.out() << "node/" << ref->node << " " << what << " (command " << string_field(response->body, "id") << ")\n";
  return 0;
}

}  // namespace fleet::ctl
