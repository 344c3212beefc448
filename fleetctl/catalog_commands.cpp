#include "fleetctl/catalog_commands.hpp"

#include <utility>
#include <vector>

#include "fleetctl/catalog_view.hpp"
#include "fleetctl/list_output.hpp"
#include "fleetctl/output_format.hpp"
#include "net/url_encode.hpp"

namespace fleet::ctl {

int get_versions(Session& session, const GetVersionsOptions& options) {
  const auto format = parse_output_format(options.output).value_or(OutputFormat::kTable);
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
  print_list(session, *items, format, [&](const std::vector<nlohmann::json>& rows) {
    return versions_table(rows, format == OutputFormat::kWide, now);
  });
  return 0;
}

}  // namespace fleet::ctl
