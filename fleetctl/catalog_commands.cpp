#include "fleetctl/catalog_commands.hpp"

#include <utility>
#include <vector>

#include "fleetctl/catalog_view.hpp"
#include "fleetctl/list_output.hpp"
#include "fleetctl/output_format.hpp"
#include "net/url_encode.hpp"

namespace fleet::ctl {

int get_versions(Session& session, const GetVersionsOptions& options) {
  const bool wide = parse_output_format(options.list.output) == OutputFormat::kWide;
  std::string query;
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"kind", options.kind},
                                   {"provider", options.provider},
                                   {"osFamily", options.os_family}}) {
    if (!value.empty()) query += (query.empty() ? "" : "&") + std::string(key) + "=" + http::url_encode(value);
  }
  if (options.include_retired) query += std::string(query.empty() ? "" : "&") + "includeRetired=true";
  auto api = session.api();
  if (!api) return session.fail(api.error());
  // The whole catalog (it is bounded), page by page.
  auto items = (*api)->list("/v1/versions", query, std::nullopt);
  if (!items) return session.fail(items.error());
  const auto now = session.now();
  return print_list(session, std::move(*items), options.list, "version",
                    [&](const std::vector<nlohmann::json>& rows) { return versions_table(rows, wide, now); });
}

}  // namespace fleet::ctl
