#include "fleetctl/inventory_commands.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include "fleetctl/inventory_view.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/list_output.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/problem.hpp"
#include "model/names.hpp"
#include "net/url_encode.hpp"

namespace fleet::ctl {
namespace {

// GET /v1/gpus pages (docs/api.md): up to 10000 per page; a full page per round trip keeps big fleets quick.
constexpr std::size_t kMaxGpuPage = 10000;

Error usage(std::string message) {
  return make_error(ErrorCode::kInvalid, std::move(message));
}

Error invalid_response(const std::string& why) {
  return make_error(ErrorCode::kInternal, why, "", "invalid-response");
}

Status check_cluster_name(const std::string& name) {
  if (auto problem = model::dns1123_label_problem(name); !problem.empty()) {
    return usage("invalid cluster name \"" + name + "\": " + problem);
  }
  return Ok{};
}

std::string nodes_path(const std::string& cluster) {
  return "/v1/clusters/" + http::url_encode(cluster) + "/nodes";
}

// The GPU list as one document: every page's items (or the first `limit`), with the totals of the first page —
// the server computes them over the whole filter, not over a page.
Result<nlohmann::json> fetch_gpus(ApiClient& api, const std::string& query, std::optional<std::size_t> limit) {
  nlohmann::json doc = {{"items", nlohmann::json::array()}};
  std::string continue_token;
  std::set<std::string> seen_tokens;  // a server bug returning the same token must not loop forever
  bool first = true;
  while (true) {
    std::size_t page = kMaxGpuPage;
    if (limit) page = std::min(*limit - doc["items"].size(), kMaxGpuPage);
    std::string target = "/v1/gpus?limit=" + std::to_string(page);
    if (!query.empty()) target += "&" + query;
    if (!continue_token.empty()) target += "&continue=" + http::url_encode(continue_token);
    auto response = api.call("GET", target);
    if (!response) return response.error();
    const auto& items = member_or_null(response->body, "items");
    if (!items.is_array()) return invalid_response("the answer to GET /v1/gpus has no \"items\" array");
    if (first) {
      doc["totals"] = member_or_null(response->body, "totals");
      doc["total"] = member_or_null(response->body, "total");
      first = false;
    }
    for (const auto& item : items) {
      if (limit && doc["items"].size() >= *limit) break;
      doc["items"].push_back(item);
    }
    continue_token = string_field(response->body, "continue");
    if (continue_token.empty() || (limit && doc["items"].size() >= *limit)) break;
    if (!seen_tokens.insert(continue_token).second) {
      return invalid_response("the server repeated a continue token while listing /v1/gpus");
    }
  }
  return doc;
}

}  // namespace

int get_nodes(Session& session, const GetNodesOptions& options) {
  const bool wide = parse_output_format(options.list.output) == OutputFormat::kWide;
  const bool every_cluster = options.cluster.empty();
  if (!every_cluster) {
    if (auto s = check_cluster_name(options.cluster); !s) return session.fail(s.error());
  }
  if (options.limit && *options.limit == 0) return session.fail(usage("--limit must be at least 1"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  std::vector<nlohmann::json> items;
  if (!every_cluster) {
    // The endpoint answers with every node in one document today; following `continue` keeps this right if it
    // starts paging. It takes no `limit`, so --limit is applied here.
    auto listed = (*api)->list(nodes_path(options.cluster), "", options.limit, /*paged=*/false);
    if (!listed) return session.fail(listed.error());
    items = std::move(*listed);
  } else {
    // Every cluster (all pages), then each one's nodes, tagged with their cluster.
    auto clusters = (*api)->list("/v1/clusters", "", std::nullopt);
    if (!clusters) return session.fail(clusters.error());
    for (const auto& cluster : *clusters) {
      if (options.limit && items.size() >= *options.limit) break;
      const std::string name = string_field(cluster, "name");
      std::optional<std::size_t> left;
      if (options.limit) left = *options.limit - items.size();
      auto nodes = (*api)->list(nodes_path(name), "", left, /*paged=*/false);
      if (!nodes) {
        if (nodes.error().code == ErrorCode::kNotFound) continue;  // deleted since the cluster list was read
        return session.fail(nodes.error());
      }
      for (auto& node : *nodes) {
        if (node.is_object() && !node.contains("cluster")) node["cluster"] = name;
        items.push_back(std::move(node));
      }
    }
  }
  return print_list(session, std::move(items), options.list, "node",
                    [&](const std::vector<nlohmann::json>& rows) { return nodes_table(rows, wide, every_cluster); });
}

int get_gpus(Session& session, const GetGpusOptions& options) {
  const auto format = parse_output_format(options.list.output).value_or(OutputFormat::kTable);
  if (!options.cluster.empty()) {
    if (auto s = check_cluster_name(options.cluster); !s) return session.fail(s.error());
  }
  if (options.limit && *options.limit == 0) return session.fail(usage("--limit must be at least 1"));
  std::vector<std::string> params;
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"cluster", options.cluster},
                                   {"model", options.model},
                                   {"health", options.health},
                                   {"admission", options.admission}}) {
    if (!value.empty()) params.push_back(std::string(key) + "=" + http::url_encode(value));
  }
  std::string query;
  for (const auto& p : params) query += (query.empty() ? "" : "&") + p;

  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto doc = fetch_gpus(**api, query, options.limit);
  if (!doc) return session.fail(doc.error());
  const auto& items = (*doc)["items"];
  std::vector<nlohmann::json> rows(items.begin(), items.end());
  const std::size_t count = rows.size();
  const auto& total_json = (*doc)["total"];
  const std::int64_t total =
      total_json.is_number_integer() ? total_json.get<std::int64_t>() : static_cast<std::int64_t>(count);
  // The totals footer is for people: --no-headers prints the GPU rows alone.
  const int rc = print_list(
      session, std::move(rows), options.list, "gpu",
      [&](const auto& sorted) {
        const std::string gpus = gpus_table(sorted, format == OutputFormat::kWide);
        return options.list.no_headers ? gpus : gpus + "\n" + gpu_totals_table((*doc)["totals"], total);
      },
      *doc);
  const bool table = format == OutputFormat::kTable || format == OutputFormat::kWide;
  if (rc == 0 && table && count > 0 && static_cast<std::int64_t>(count) < total) {
    session.err() << "showing " << count << " of " << total << " GPUs; the totals count all of them\n";
  }
  return rc;
}

std::string describe_cluster_inventory(Session& session, ApiClient& api, const std::string& cluster) {
  auto nodes = api.list(nodes_path(cluster), "", std::nullopt, /*paged=*/false);
  if (!nodes) {
    session.err() << "warning: cannot list the cluster's nodes: " << render_error(nodes.error()) << "\n";
    return {};
  }
  return describe_inventory(cluster, *nodes);
}

}  // namespace fleet::ctl
