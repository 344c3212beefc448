#pragma once
// fleetd's REST API as fleetctl uses it: JSON in and out, the bearer token on every call, problem+json turned into
// Errors, and list paging. Built on the http::Client interface so tests substitute a fake server.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "net/http_client.hpp"

namespace fleet::ctl {

struct ApiResponse {
  int status = 0;
  nlohmann::json body;  // null for an empty body (204)
  std::string etag;     // the ETag header as sent, quotes included
};

class ApiClient {
 public:
  ApiClient(std::unique_ptr<http::Client> client, std::string token)
      : client_(std::move(client)), token_(std::move(token)) {}

  // Any status >= 400 → error_from_response; a 2xx body that is not JSON → an Error of type "invalid-response".
  Result<ApiResponse> call(const std::string& method, const std::string& path_and_query,
                           const std::optional<nlohmann::json>& body = std::nullopt,
                           const http::Headers& extra_headers = {});

  // Follows `continue` tokens until the last page, or until `limit` items when given. `query` is already encoded
  // ("labelSelector=env%3Dprod") or empty. `paged` false: the endpoint takes no `limit` (tokens), so none is sent.
  Result<std::vector<nlohmann::json>> list(const std::string& path, const std::string& query,
                                           std::optional<std::size_t> limit, bool paged = true);

 private:
  std::unique_ptr<http::Client> client_;
  std::string token_;
};

}  // namespace fleet::ctl
