#include "agents/kube/upgrade/arm_client.hpp"

#include <utility>

#include "agents/kube/upgrade/aks_requests.hpp"
#include "agents/kube/upgrade/arm_lro.hpp"
#include "common/json_text.hpp"
#include "net/http_client.hpp"
#include "net/http_status.hpp"

namespace fleet::agent::kube {

Error arm_error(const std::string& method, const std::string& target, const ArmResponse& response) {
  const ArmError e = parse_arm_error(response.body);
  std::string message = method + " " + target.substr(0, target.find('?')) + ": " + std::to_string(response.status) +
                        " " + http::reason_phrase(response.status);
  if (!e.code.empty()) message += ": " + e.code;
  if (!e.message.empty()) message += ": " + e.message.substr(0, 600);
  if (response.status == 403) message += " (the workload identity needs a role on the cluster that allows this)";
  return make_error(http::error_code_for_status(response.status), std::move(message));
}

ArmClient::ArmClient(ArmClientOptions options, TokenSource& tokens, std::unique_ptr<http::Client> client)
    : options_(std::move(options)), tokens_(tokens), client_(std::move(client)) {}

ArmClient::~ArmClient() = default;

Result<std::unique_ptr<ArmClient>> ArmClient::create(ArmClientOptions options, TokenSource& tokens) {
  while (!options.endpoint.empty() && options.endpoint.back() == '/') options.endpoint.pop_back();
  http::ClientOptions o;
  o.base_url = options.endpoint;
  o.ca_file = options.ca_file;
  o.timeout = options.timeout;
  o.max_response_bytes = options.max_response_bytes;
  o.user_agent = "fleet-agent";
  auto client = http::Client::create(o);
  if (!client) return make_error(client.error().code, "ARM endpoint: " + client.error().message);
  return std::unique_ptr<ArmClient>(new ArmClient(std::move(options), tokens, std::move(*client)));
}

Result<ArmResponse> ArmClient::call(const std::string& method, const std::string& target, const nlohmann::json& body,
                                    const std::string& if_match) {
  const std::string text = body.is_null() ? std::string() : body.dump();
  // A 401 is tried once more with a freshly exchanged token: a cached token may have been revoked early.
  for (int attempt = 0;; ++attempt) {
    auto token = tokens_.token();
    if (!token) return token.error();
    http::Headers headers{{"accept", "application/json"}, {"authorization", "Bearer " + *token}};
    if (!text.empty()) headers["content-type"] = "application/json";
    if (!if_match.empty()) headers["if-match"] = if_match;
    auto r = client_->request(method, target, headers, text);
    if (!r)
      return make_error(r.error().code, method + " " + target.substr(0, target.find('?')) + ": " + r.error().message);
    if (r->status == 401 && attempt == 0) {
      tokens_.invalidate();
      continue;
    }
    ArmResponse out;
    out.status = r->status;
    out.headers = std::move(r->headers);
    if (!r->body.empty()) {
      auto parsed = parse_json_text(r->body, options_.max_response_bytes);
      if (parsed) out.body = std::move(*parsed);
    }
    return out;
  }
}

Result<ArmResponse> ArmClient::get_url(const std::string& url) {
  auto target = same_origin_target(url, options_.endpoint);
  if (!target) {
    return make_error(ErrorCode::kInvalid, "ARM asked to poll " + url.substr(0, 200) + ", which is not on " +
                                               options_.endpoint + "; not sending the token there");
  }
  return call("GET", *target);
}

}  // namespace fleet::agent::kube
