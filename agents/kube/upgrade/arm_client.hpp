#pragma once
// A thin Azure Resource Manager client for the aks driver: one synchronous HTTPS connection to the ARM endpoint,
// the Entra bearer token on every call (exchanged again once after a 401), every response body size-limited and
// parsed with the bounded JSON reader. It decides nothing: statuses, LRO headers and error bodies go back to the
// driver as data. One instance per thread.
#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "agents/kube/upgrade/entra_token.hpp"
#include "common/error.hpp"
#include "net/http_types.hpp"

namespace fleet::http {
class Client;
}

namespace fleet::agent::kube {

struct ArmClientOptions {
  std::string endpoint = "https://management.azure.com";  // no path; tests point it at the double
  std::string ca_file;                                    // empty → the system's trust store
  std::chrono::milliseconds timeout{30000};
  std::size_t max_response_bytes = 4 * 1024 * 1024;  // a managed cluster with many pools is tens of KiB
};

struct ArmResponse {
  int status = 0;
  http::Headers headers;  // lower-cased names
  nlohmann::json body;    // null when empty or not JSON
};

class ArmClient {
 public:
  static Result<std::unique_ptr<ArmClient>> create(ArmClientOptions options, TokenSource& tokens);
  ~ArmClient();
  ArmClient(const ArmClient&) = delete;
  ArmClient& operator=(const ArmClient&) = delete;

  // `target` is a path with its query. Any HTTP status is a response; transport failures are Errors naming the
  // call. A non-null `body` goes as JSON; `if_match` (an etag) as If-Match.
  Result<ArmResponse> call(const std::string& method, const std::string& target, const nlohmann::json& body = nullptr,
                           const std::string& if_match = {});
  // GET of an absolute URL from a response header (Azure-AsyncOperation, Location): refused unless it is on the
  // ARM endpoint, so the token never goes to a host a response named.
  Result<ArmResponse> get_url(const std::string& url);

  const std::string& endpoint() const { return options_.endpoint; }

 private:
  ArmClient(ArmClientOptions options, TokenSource& tokens, std::unique_ptr<http::Client> client);
  ArmClientOptions options_;
  TokenSource& tokens_;
  std::unique_ptr<http::Client> client_;
};

// "PUT /subscriptions/…/managedClusters/c: 400 Bad Request: InvalidParameter: …" for a failed call.
Error arm_error(const std::string& method, const std::string& target, const ArmResponse& response);

}  // namespace fleet::agent::kube
