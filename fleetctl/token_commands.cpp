#include "fleetctl/token_commands.hpp"

#include <ostream>

#include "fleetctl/api_client.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/token_view.hpp"

namespace fleet::ctl {

int create_token(Session& session, const CreateTokenOptions& options) {
  const auto format = parse_output_format(options.output).value_or(OutputFormat::kTable);
  auto api = session.api();
  if (!api) return session.fail(api.error());
  nlohmann::json body = {{"role", options.role}};
  if (!options.description.empty()) body["description"] = options.description;
  auto created = (*api)->call("POST", "/v1/tokens", body);
  if (!created) return session.fail(created.error());
  if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
    session.out() << render_document(created->body, format);
    return 0;
  }
  session.out() << string_field(created->body, "token") << "\n";
  session.err() << "token " << string_field(created->body, "id") << " created with role "
                << string_field(created->body, "role") << "; the secret above is not shown again\n";
  return 0;
}

int get_tokens(Session& session, const std::string& output) {
  const auto format = parse_output_format(output).value_or(OutputFormat::kTable);
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto items = (*api)->list("/v1/tokens", "", std::nullopt, /*paged=*/false);
  if (!items) return session.fail(items.error());
  if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
    session.out() << render_document(as_list(*items), format);
  } else if (items->empty()) {
    session.err() << "No resources found.\n";
  } else {
    session.out() << tokens_table(*items, session.now());
  }
  return 0;
}

int delete_token(Session& session, const std::string& id) {
  if (id.empty()) return session.fail(make_error(ErrorCode::kInvalid, "a token id is required"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto deleted = (*api)->call("DELETE", "/v1/tokens/" + url_encode(id));
  if (!deleted) return session.fail(deleted.error());
  session.out() << "token \"" << id << "\" revoked\n";
  return 0;
}

}  // namespace fleet::ctl
