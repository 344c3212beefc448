#include "fleetctl/override_commands.hpp"

#include <utility>
#include <vector>

#include "fleetctl/override_view.hpp"
#include "net/url_encode.hpp"

namespace fleet::ctl {
namespace {

Error usage(std::string message) {
  return make_error(ErrorCode::kInvalid, std::move(message));
}

std::string override_path(const std::string& name) {
  return "/v1/overrides/" + http::url_encode(name);
}

}  // namespace

int get_overrides(Session& session, const OverrideOptions& options) {
  if (!options.name.empty() && (options.limit || !options.workload.empty())) {
    return session.fail(usage("--limit and --workload apply to lists, not to one override"));
  }
  if (options.limit && *options.limit == 0) return session.fail(usage("--limit must be at least 1"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto table = [&](const std::vector<nlohmann::json>& rows) { return overrides_table(rows, session.now()); };
  if (!options.name.empty()) {
    auto got = (*api)->call("GET", override_path(options.name));
    if (!got) return session.fail(got.error());
    return print_object(session, got->body, options.list, "override", table);
  }
  const std::string query = options.workload.empty() ? "" : "workload=" + http::url_encode(options.workload);
  auto listed = (*api)->list("/v1/overrides", query, options.limit);
  if (!listed) return session.fail(listed.error());
  return print_list(session, std::move(*listed), options.list, "override", table);
}

int describe_override_command(Session& session, const std::string& name) {
  if (name.empty()) return session.fail(usage("an override name is required"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto got = (*api)->call("GET", override_path(name));
  if (!got) return session.fail(got.error());
  session.out() << describe_override(got->body, session.now());
  return 0;
}

int delete_override(Session& session, const std::string& name) {
  if (name.empty()) return session.fail(usage("an override name is required"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto deleted = (*api)->call("DELETE", override_path(name));
  if (!deleted) return session.fail(deleted.error());
  session.out() << "override/" << name << " deleted\n";
  return 0;
}

}  // namespace fleet::ctl
