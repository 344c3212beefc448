#include "fleetctl/token_commands.hpp"

#include <charconv>
#include <ostream>

#include "model/names.hpp"

#include "fleetctl/api_client.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/list_output.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/token_view.hpp"
#include "net/url_encode.hpp"

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

Result<std::int64_t> parse_ttl_seconds(std::string_view text) {
  const std::string original(text.substr(0, 32));
  auto bad = [&original] {
    return make_error(ErrorCode::kInvalid,
                      "--ttl must be a duration such as 90s, 15m, 1h or 7d; got \"" + original + "\"");
  };
  if (text.empty() || text.size() > 16) return bad();
  std::int64_t unit = 1;  // plain digits are seconds
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      if (text.back() < '0' || text.back() > '9') return bad();
      unit = 0;  // no suffix: seconds, nothing to strip
  }
  if (unit != 0) text.remove_suffix(1);
  if (unit == 0) unit = 1;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  constexpr std::int64_t kMaxSeconds = 365 * 86400;  // syntax bound; the server allows at most 7 days
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || n <= 0 || n > kMaxSeconds) return bad();
  if (n * unit > kMaxSeconds) return bad();
  return n * unit;
}

int create_bootstrap_token(Session& session, const CreateBootstrapTokenOptions& options) {
  const auto format = parse_output_format(options.output).value_or(OutputFormat::kTable);
  if (auto problem = model::dns1123_label_problem(options.cluster); !problem.empty()) {
    return session.fail(make_error(ErrorCode::kInvalid, "invalid --cluster \"" + options.cluster + "\": " + problem));
  }
  auto ttl = parse_ttl_seconds(options.ttl);
  if (!ttl) return session.fail(ttl.error());
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto created = (*api)->call("POST", "/v1/clusters/" + http::url_encode(options.cluster) + "/bootstrap-tokens",
                              nlohmann::json{{"ttlSeconds", *ttl}});
  if (!created) return session.fail(created.error());
  if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
    session.out() << render_document(created->body, format);
    return 0;
  }
  session.out() << string_field(created->body, "token") << "\n";
  session.err() << "bootstrap token for cluster " << options.cluster << " expires at "
                << string_field(created->body, "expiresAt") << "; it registers one agent once\n";
  return 0;
}

int get_tokens(Session& session, const ListOptions& options) {
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto items = (*api)->list("/v1/tokens", "", std::nullopt, /*paged=*/false);
  if (!items) return session.fail(items.error());
  return print_list(session, std::move(*items), options, "token",
                    [&](const std::vector<nlohmann::json>& rows) { return tokens_table(rows, session.now()); });
}

int delete_token(Session& session, const std::string& id) {
  if (id.empty()) return session.fail(make_error(ErrorCode::kInvalid, "a token id is required"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto deleted = (*api)->call("DELETE", "/v1/tokens/" + http::url_encode(id));
  if (!deleted) return session.fail(deleted.error());
  session.out() << "token \"" << id << "\" revoked\n";
  return 0;
}

}  // namespace fleet::ctl
