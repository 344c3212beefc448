#include "fleetctl/version_command.hpp"

#include <ostream>

#include "fleetctl/json_fields.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/version.hpp"

namespace fleet::ctl {

int version_command(Session& session, bool client_only, const std::string& output) {
  const auto format = parse_output_format(output).value_or(OutputFormat::kTable);
  const bool structured = format == OutputFormat::kJson || format == OutputFormat::kYaml;
  nlohmann::json doc = {{"clientVersion", {{"version", std::string(client_version())}}}};
  if (!structured) session.out() << "Client Version: " << client_version() << "\n";
  if (client_only) {
    if (structured) session.out() << render_document(doc, format);
    return 0;
  }
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto got = (*api)->call("GET", "/version");
  if (!got) {
    if (structured) session.out() << render_document(doc, format);
    return session.fail(got.error());
  }
  doc["serverVersion"] = got->body;
  if (structured) {
    session.out() << render_document(doc, format);
    return 0;
  }
  std::string line = "Server Version: " + string_field(got->body, "version");
  const std::string commit = string_field(got->body, "gitCommit");
  const std::string built = string_field(got->body, "buildDate");
  if (!commit.empty() || !built.empty()) {
    line += " (";
    if (!commit.empty()) line += "commit " + commit;
    if (!commit.empty() && !built.empty()) line += ", ";
    if (!built.empty()) line += "built " + built;
    line += ")";
  }
  session.out() << line << "\n";
  return 0;
}

}  // namespace fleet::ctl
