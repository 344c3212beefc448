#include "fleetctl/workload_commands.hpp"

#include <utility>
#include <vector>

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

}  // namespace

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
  // The placement section is read after the workload, and a failure there (an older fleetd without events, say)
  // shows in the section instead of failing the describe.
  nlohmann::json placement;
  std::vector<nlohmann::json> events;
  std::string unavailable;
  if (auto p = (*api)->call("GET", workload_path(name) + "/placement"); p) {
    placement = std::move(p->body);
  } else {
    unavailable = p.error().message;
  }
  if (auto e = (*api)->list(workload_path(name) + "/events", "", std::nullopt); e) {
    events = std::move(*e);
  } else if (unavailable.empty()) {
    unavailable = e.error().message;
  }
  session.out() << describe_workload(got->body, session.now())
                << workload_placement_section(placement, events, unavailable, session.now());
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
