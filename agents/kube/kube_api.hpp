#pragma once
// A thin Kubernetes API client over fleet::http::Client: the connection's TLS trust and credentials, JSON
// bodies, Status objects turned into Errors that name the call, and watches read line by line. One instance
// per thread (the HTTP client is synchronous); cancel() is the one thread-safe call.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agents/kube/kubeconfig.hpp"
#include "common/error.hpp"

namespace fleet::http {
class Client;
}

namespace fleet::agent::kube {

struct ApiResponse {
  int status = 0;
  nlohmann::json body;  // null when the body is empty or not JSON
  std::string raw;
};

inline constexpr std::string_view kMergePatch = "application/merge-patch+json";
inline constexpr std::string_view kStrategicMergePatch = "application/strategic-merge-patch+json";
inline constexpr std::string_view kApplyPatch = "application/apply-patch+yaml";

class KubeApi {
 public:
  static Result<std::unique_ptr<KubeApi>> create(KubeConnection connection, std::chrono::milliseconds timeout);
  ~KubeApi();
  KubeApi(const KubeApi&) = delete;
  KubeApi& operator=(const KubeApi&) = delete;

  // Any HTTP status is a response; transport failures (refused, TLS verification, timeout) are Errors that name
  // the call and the cause. A JSON body is sent as application/json unless `content_type` says otherwise.
  Result<ApiResponse> call(std::string_view method, const std::string& path, const std::string& body = {},
                           std::string_view content_type = {});
  // GET expecting 2xx: the body, else api_error.
  Result<nlohmann::json> get(const std::string& path);
  // Every item of a list endpoint (`path` may carry a query), `page_size` at a time following `continue`:
  // {"items": [...], "metadata": {"resourceVersion": the list's}}.
  Result<nlohmann::json> list(const std::string& path, std::size_t page_size);
  // A watch (GET …?watch=1…): each complete line of the body goes to `on_line`, which returns false to stop.
  // The response: 200 when the server ended the watch (a dropped watch, or its timeoutSeconds), else the error
  // status with its body.
  Result<ApiResponse> watch(const std::string& path, const std::function<bool(std::string_view)>& on_line,
                            std::chrono::milliseconds timeout);
  // Thread-safe: the call in progress and every later one fail at once (shutting down a watch).
  void cancel();

  const KubeConnection& connection() const { return connection_; }

 private:
  KubeApi(KubeConnection connection, std::unique_ptr<http::Client> client);
  Result<std::string> bearer_token();

  KubeConnection connection_;
  std::unique_ptr<http::Client> client_;
  std::string token_;
  std::chrono::steady_clock::time_point token_read_{};
};

// "PATCH /api/v1/nodes/n1: 409 Conflict: Operation cannot be fulfilled …", with the Status causes (they name
// the PodDisruptionBudget of a refused eviction). 401 → kUnauthenticated, 403 → kForbidden, 404 → kNotFound,
// 409 → kConflict, 400/422 → kInvalid, 429 and 5xx → kUnavailable.
Error api_error(std::string_view method, std::string_view path, const ApiResponse& response);
// The Status object's message plus its causes' messages; the raw body (bounded) when it is not a Status.
std::string status_message(const ApiResponse& response);

}  // namespace fleet::agent::kube
