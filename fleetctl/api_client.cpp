#include "fleetctl/api_client.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "fleetctl/json_fields.hpp"
#include "fleetctl/problem.hpp"
#include "net/url_encode.hpp"

namespace fleet::ctl {
namespace {

// The server's maximum page size (docs/api.md): fewer round trips for large fleets.
constexpr std::size_t kMaxPageSize = 1000;
constexpr std::size_t kDefaultPageSize = 500;

Error invalid_response(const std::string& why) {
  return make_error(ErrorCode::kInternal, why, "", "invalid-response");
}

}  // namespace

Result<ApiResponse> ApiClient::call(const std::string& method, const std::string& path_and_query,
                                    const std::optional<nlohmann::json>& body, const http::Headers& extra_headers) {
  http::Headers headers = {{"Accept", "application/json"}};
  if (!token_.empty()) headers["Authorization"] = "Bearer " + token_;
  std::string payload;
  if (body) {
    headers["Content-Type"] = method == "PATCH" ? "application/merge-patch+json" : "application/json";
    payload = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  for (const auto& [k, v] : extra_headers) headers[k] = v;

  auto response = client_->request(method, path_and_query, headers, payload);
  if (!response) return response.error();
  if (response->status >= 400) return error_from_response(*response);

  ApiResponse out;
  out.status = response->status;
  if (auto it = response->headers.find("etag"); it != response->headers.end()) out.etag = it->second;
  if (!response->body.empty()) {
    out.body = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (out.body.is_discarded()) {
      return invalid_response("the server's answer to " + method + " " + path_and_query + " is not JSON");
    }
  }
  return out;
}

Result<std::vector<nlohmann::json>> ApiClient::list(const std::string& path, const std::string& query,
                                                    std::optional<std::size_t> limit, bool paged) {
  std::vector<nlohmann::json> items;
  std::string continue_token;
  std::set<std::string> seen_tokens;  // a server bug returning the same token must not loop forever
  while (true) {
    std::size_t page = kDefaultPageSize;
    if (limit) page = std::min(*limit - items.size(), kMaxPageSize);
    std::vector<std::string> params;
    if (paged) params.push_back("limit=" + std::to_string(page));
    if (!query.empty()) params.push_back(query);
    if (!continue_token.empty()) params.push_back("continue=" + http::url_encode(continue_token));
    std::string target = path;
    for (std::size_t i = 0; i < params.size(); ++i) target += (i == 0 ? "?" : "&") + params[i];
    auto response = call("GET", target);
    if (!response) return response.error();
    const auto& page_items = member_or_null(response->body, "items");
    if (!page_items.is_array()) return invalid_response("the list from " + path + " has no \"items\" array");
    for (const auto& item : page_items) {
      if (limit && items.size() >= *limit) break;
      items.push_back(item);
    }
    continue_token = string_field(response->body, "continue");
    if (continue_token.empty() || (limit && items.size() >= *limit)) break;
    if (!seen_tokens.insert(continue_token).second) {
      return invalid_response("the server repeated a continue token while listing " + path);
    }
  }
  return items;
}

}  // namespace fleet::ctl
