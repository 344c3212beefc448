#include "fleetctl/cluster_commands.hpp"

#include <algorithm>
#include <iostream>

#include "fleetctl/cluster_view.hpp"
#include "fleetctl/conditional_write.hpp"
#include "fleetctl/document_file.hpp"
#include "fleetctl/exit_codes.hpp"
#include "fleetctl/inventory_commands.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/label_args.hpp"
#include "fleetctl/list_output.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/taint_args.hpp"
#include "model/label_selector.hpp"
#include "model/names.hpp"
#include "net/url_encode.hpp"

namespace fleet::ctl {
namespace {

Error usage(std::string message) {
  return make_error(ErrorCode::kInvalid, std::move(message));
}

std::string cluster_path(const std::string& name) {
  return "/v1/clusters/" + http::url_encode(name);
}

Status check_name(const std::string& name) {
  if (auto problem = model::dns1123_label_problem(name); !problem.empty()) {
    return usage("invalid cluster name \"" + name + "\": " + problem);
  }
  return Ok{};
}

// Shared by label and taint: the patch is decided from the cluster as read (conditional_write retries on 412).
template <class MakePatch>
int patch_cluster(Session& session, const std::string& name, MakePatch make_patch, const std::string& verb,
                  const std::string& unchanged_verb) {
  if (auto s = check_name(name); !s) return session.fail(s.error());
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto outcome =
      read_modify_write(**api, cluster_path(name), [&](const ApiResponse& got) -> Result<std::optional<PlannedWrite>> {
        auto patch = make_patch(got.body);
        if (!patch) return patch.error();
        if (!patch->has_value()) return std::optional<PlannedWrite>();
        return std::optional<PlannedWrite>(PlannedWrite{"PATCH", std::move(**patch)});
      });
  if (!outcome) return session.fail(outcome.error());
  session.out() << "cluster/" << name << " " << (outcome->written ? verb : unchanged_verb) << "\n";
  return 0;
}

}  // namespace

int get_clusters(Session& session, const GetClustersOptions& options) {
  const bool wide = parse_output_format(options.list.output) == OutputFormat::kWide;
  auto table = [&](const std::vector<nlohmann::json>& rows) { return clusters_table(rows, wide, session.now()); };
  if (!options.name.empty()) {
    if (!options.selector.empty() || options.limit) {
      return session.fail(usage("-l and --limit apply to lists, not to one cluster by name"));
    }
    if (auto s = check_name(options.name); !s) return session.fail(s.error());
  }
  if (options.limit && *options.limit == 0) return session.fail(usage("--limit must be at least 1"));
  std::string query;
  if (!options.selector.empty()) {
    auto parsed = model::parse_label_selector(options.selector);
    if (!parsed) return session.fail(usage("invalid label selector: " + parsed.error().message));
    query = "labelSelector=" + http::url_encode(options.selector);
  }
  auto api = session.api();
  if (!api) return session.fail(api.error());

  if (!options.name.empty()) {
    auto got = (*api)->call("GET", cluster_path(options.name));
    if (!got) return session.fail(got.error());
    return print_object(session, got->body, options.list, "cluster", table);
  }

  auto items = (*api)->list("/v1/clusters", query, options.limit);
  if (!items) return session.fail(items.error());
  return print_list(session, std::move(*items), options.list, "cluster", table);
}

int describe_cluster_command(Session& session, const std::string& name) {
  if (auto s = check_name(name); !s) return session.fail(s.error());
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto got = (*api)->call("GET", cluster_path(name));
  if (!got) return session.fail(got.error());
  session.out() << describe_cluster(got->body, session.now()) << describe_cluster_inventory(session, **api, name);
  return 0;
}

Result<nlohmann::json> cluster_body_from_flags(const CreateClusterOptions& options) {
  if (auto s = check_name(options.name); !s) return s.error();
  if (options.provider != "aks" && options.provider != "arc") {
    return usage(options.provider.empty() ? "--provider is required (aks or arc)"
                                          : "--provider must be aks or arc, not \"" + options.provider + "\"");
  }
  nlohmann::json body = {{"name", options.name}, {"provider", options.provider}};
  if (options.region) {
    if (auto s = model::validate_region(*options.region, "region"); !s) {
      return usage("invalid --region: " + s.error().message);
    }
    body["region"] = *options.region;
  }
  if (options.update_group) {
    if (auto s = model::validate_update_group(*options.update_group, "updateGroup"); !s) {
      return usage("invalid --update-group: " + s.error().message);
    }
    body["updateGroup"] = *options.update_group;
  }
  if (!options.labels.empty()) {
    for (const auto& l : options.labels) {
      if (l.find('=') == std::string::npos) return usage("invalid --label \"" + l + "\": expected key=value");
    }
    auto changes = parse_label_args(options.labels);
    if (!changes) return changes.error();
    body["labels"] = changes->set;
  }
  if (!options.taints.empty()) {
    auto changes = parse_taint_args(options.taints);
    if (!changes) return changes.error();
    auto taints = nlohmann::json::array();
    for (const auto& t : *changes) {
      if (t.remove) return usage("invalid --taint \"" + t.key + "-\": a removal makes no sense when creating");
      taints.push_back({{"key", t.key}, {"value", t.value}, {"effect", t.effect}});
    }
    body["taints"] = std::move(taints);
  }
  return body;
}

int create_cluster(Session& session, const CreateClusterOptions& options) {
  const auto format = parse_output_format(options.output).value_or(OutputFormat::kTable);
  nlohmann::json body;
  if (!options.file.empty()) {
    if (!options.provider.empty() || options.region || options.update_group || !options.labels.empty() ||
        !options.taints.empty()) {
      return session.fail(usage("-f cannot be combined with --provider, --region, --label, --taint or --update-group"));
    }
    auto read = read_document_file(session, options.file);
    if (!read) return session.fail(read.error());
    body = std::move(*read);
    const auto& body_name = member_or_null(body, "name");
    if (!options.name.empty()) {
      if (!body_name.is_null() && body_name != options.name) {
        return session.fail(usage("the name argument \"" + options.name + "\" differs from the file's \"name\""));
      }
      body["name"] = options.name;
    } else if (!body_name.is_string()) {
      return session.fail(usage("the file has no \"name\"; give one as an argument"));
    }
  } else {
    auto built = cluster_body_from_flags(options);
    if (!built) return session.fail(built.error());
    body = std::move(*built);
  }
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto created = (*api)->call("POST", "/v1/clusters", body);
  if (!created) return session.fail(created.error());
  if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
    session.out() << render_document(created->body, format);
  } else {
    session.out() << "cluster/" << string_field(created->body, "name") << " created\n";
  }
  return 0;
}

int label_cluster(Session& session, const LabelOptions& options) {
  auto changes = parse_label_args(options.changes);
  if (!changes) return session.fail(changes.error());
  return patch_cluster(
      session, options.name,
      [&](const nlohmann::json& cluster) -> Result<std::optional<nlohmann::json>> {
        auto patch = make_label_patch(*changes, member_or_null(cluster, "labels"), options.overwrite);
        if (!patch) return patch.error();
        for (const auto& w : patch->warnings) session.err() << w << "\n";
        if (!patch->changes()) return std::optional<nlohmann::json>();
        return std::optional<nlohmann::json>(patch->body);
      },
      "labeled", "not labeled");
}

int taint_cluster(Session& session, const TaintOptions& options) {
  auto changes = parse_taint_args(options.changes);
  if (!changes) return session.fail(changes.error());
  // As kubectl: "untainted" when the arguments only remove.
  const bool removes_only =
      std::all_of(changes->begin(), changes->end(), [](const TaintChange& c) { return c.remove; });
  return patch_cluster(
      session, options.name,
      [&](const nlohmann::json& cluster) -> Result<std::optional<nlohmann::json>> {
        auto update = apply_taint_changes(*changes, member_or_null(cluster, "taints"), options.overwrite);
        if (!update) return update.error();
        return std::optional<nlohmann::json>(nlohmann::json{{"taints", update->taints}});
      },
      removes_only ? "untainted" : "tainted", "not tainted");
}

int delete_cluster(Session& session, const std::string& name) {
  if (auto s = check_name(name); !s) return session.fail(s.error());
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto deleted = (*api)->call("DELETE", cluster_path(name));
  if (!deleted) return session.fail(deleted.error());
  session.out() << "cluster \"" << name << "\" deleted\n";
  return 0;
}

}  // namespace fleet::ctl
