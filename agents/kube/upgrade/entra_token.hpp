#pragma once
// Microsoft Entra workload identity for the aks driver: the projected service-account token that the AKS
// workload identity webhook mounts (AZURE_FEDERATED_TOKEN_FILE) is exchanged at the Entra token endpoint
// ({authority}/{tenant}/oauth2/v2.0/token, client credentials with a JWT-bearer client assertion) for an ARM
// access token, which is cached until shortly before it expires. The file is read on every exchange: the
// kubelet rotates it. The request building and the response reading are pure and tested on their own.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#third-case-access-token-request-with-a-federated-credential
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::agent::kube {

inline constexpr std::string_view kArmScope = "https://management.azure.com/.default";
inline constexpr std::string_view kJwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct WorkloadIdentity {
  std::string authority = "https://login.microsoftonline.com";  // AZURE_AUTHORITY_HOST
  std::string tenant_id;                                        // AZURE_TENANT_ID
  std::string client_id;                                        // AZURE_CLIENT_ID
  std::string federated_token_file;                             // AZURE_FEDERATED_TOKEN_FILE
  std::string scope = std::string(kArmScope);
};
// From the variables the workload identity webhook sets; kInvalid naming the ones that are missing.
Result<WorkloadIdentity> workload_identity_from_env(const std::function<const char*(const char*)>& getenv);

// application/x-www-form-urlencoded body of the token request.
std::string token_request_body(const WorkloadIdentity& identity, std::string_view assertion);
// "/{tenant}/oauth2/v2.0/token" under the authority's own path, if it has one.
std::string token_path(const WorkloadIdentity& identity);

struct AccessToken {
  std::string token;
  std::chrono::seconds expires_in{0};
};
// 200 {"token_type": "Bearer", "expires_in": 3599, "access_token": …}; anything else is kUnauthenticated with
// Entra's own words ({"error": "invalid_client", "error_description": "AADSTS700213: …"}).
Result<AccessToken> parse_token_response(int status, const nlohmann::json& body);
// When a token obtained at `obtained` should be replaced: 5 minutes before it expires, or halfway through a
// lifetime shorter than 10 minutes, so that no request goes out with a token about to expire.
std::chrono::steady_clock::time_point token_refresh_at(std::chrono::steady_clock::time_point obtained,
                                                       std::chrono::seconds expires_in);

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual Result<std::string> token() = 0;
  virtual void invalidate() = 0;  // ARM said 401: the next token() exchanges again
};

struct EntraTokenOptions {
  WorkloadIdentity identity;
  std::string ca_file;  // for the authority's TLS; empty → the system's trust store
  std::chrono::milliseconds timeout{30000};
  std::function<std::chrono::steady_clock::time_point()> now;  // empty → steady_clock
};
// Thread-safe: the backend's workers share one cache.
std::unique_ptr<TokenSource> make_entra_token_source(EntraTokenOptions options);

}  // namespace fleet::agent::kube
