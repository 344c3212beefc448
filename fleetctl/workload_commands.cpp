#include "fleetctl/workload_commands.hpp"

#include <utility>
#include <vector>

#include "fleetctl/document_file.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/list_output.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/workload_view.hpp"
#include "net/url_encode.hpp"

namespace fleet::ctl {
namespace {

Error usage(std::string message) {
  return make_error(ErrorCode::kInvalid, std::move(message));
}

std::string workload_path(const std::string& name) {
  return "/v1/workloads/" + http::url_encode(name);
}

OutputFormat format_of(const WorkloadOptions& options) {
  return parse_output_format(options.output).value_or(OutputFormat::kTable);
}

bool is_document(OutputFormat format) {
  return format == OutputFormat::kJson || format == OutputFormat::kYaml;
}

int print_outcome(Session& session, const WorkloadOptions& options, const nlohmann::json& object,
                  const std::string& name, const std::string& what) {
  const auto format = format_of(options);
  if (is_document(format)) {
    session.out() << render_document(object, format);
  } else {
    session.out() << "workload/" << name << " " << what << "\n";
  }
  return 0;
}

}  // namespace

int apply_file(Session& session, const WorkloadOptions& options) {
  if (options.file.empty()) return session.fail(usage("-f FILE is required: a workload, JSON or YAML"));
  auto document = read_document_file(session, options.file);
  if (!document) return session.fail(document.error());
  if (!document->contains("manifests")) {
    return session.fail(usage("fleetctl apply takes a workload: an object with \"name\" and \"manifests\""));
  }
  const auto& name_member = member_or_null(*document, "name");
  if (!name_member.is_string() || name_member.get<std::string>().empty()) {
    return session.fail(usage("the workload has no \"name\""));
  }
  const std::string name = name_member.get<std::string>();
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto current = (*api)->call("GET", workload_path(name));
  if (!current) {
    if (current.error().code != ErrorCode::kNotFound) return session.fail(current.error());
    auto created = (*api)->call("POST", "/v1/workloads", *document);
    if (!created) return session.fail(created.error());
    return print_outcome(session, options, created->body, name, "created");
  }
  std::string if_match = current->etag;
  if (if_match.empty()) if_match = "\"" + string_field(current->body, "resourceVersion") + "\"";
  auto replaced = (*api)->call("PUT", workload_path(name), *document, {{"If-Match", if_match}});
  if (!replaced) return session.fail(replaced.error());
  const bool same = member_or_null(replaced->body, "generation") == member_or_null(current->body, "generation");
  return print_outcome(session, options, replaced->body, name, same ? "unchanged" : "configured");
}

int get_workloads(Session& session, const WorkloadOptions& options) {
  const bool wide = parse_output_format(options.list.output) == OutputFormat::kWide;
  if (!options.name.empty() && options.limit) {
    return session.fail(usage("--limit applies to lists, not to one workload"));
  }
  if (options.limit && *options.limit == 0) return session.fail(usage("--limit must be at least 1"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto table = [&](const std::vector<nlohmann::json>& rows) { return workloads_table(rows, wide, session.now()); };
  if (!options.name.empty()) {
    auto got = (*api)->call("GET", workload_path(options.name));
    if (!got) return session.fail(got.error());
    return print_object(session, got->body, options.list, "workload", table);
  }
  auto listed = (*api)->list("/v1/workloads", "", options.limit);
  if (!listed) return session.fail(listed.error());
  return print_list(session, std::move(*listed), options.list, "workload", table);
}

int describe_workload_command(Session& session, const std::string& name) {
  if (name.empty()) return session.fail(usage("a workload name is required"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto got = (*api)->call("GET", workload_path(name));
  if (!got) return session.fail(got.error());
  session.out() << describe_workload(got->body, session.now());
  return 0;
}

int describe_placement_command(Session& session, const std::string& name) {
  if (name.empty()) return session.fail(usage("a workload name is required"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto got = (*api)->call("GET", workload_path(name) + "/placement");
  if (!got) return session.fail(got.error());
  session.out() << describe_placement(got->body, session.now());
  return 0;
}

int delete_workload(Session& session, const std::string& name) {
  if (name.empty()) return session.fail(usage("a workload name is required"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto deleted = (*api)->call("DELETE", workload_path(name));
  if (!deleted) return session.fail(deleted.error());
  session.out() << "workload/" << name << (deleted->status == 202 ? " deletion requested" : " deleted") << "\n";
  return 0;
}

}  // namespace fleet::ctl
