#pragma once
// Azure Resource Manager long-running operations, read as data (pure; no I/O). A PUT or POST that ARM runs in
// the background answers 200/201/202 with an `Azure-AsyncOperation` header (a status resource to poll), or only
// a `Location` header (poll until it stops answering 202), and maybe `Retry-After` (seconds). The status
// resource is {"id", "name", "status": "InProgress" | "Succeeded" | "Failed" | "Canceled", "percentComplete"?,
// "error"?: {"code", "message"}}; AKS writes "InProgress", other providers "Running" or "Accepted", so anything
// that is not one of the three terminal words counts as still running.
// https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "net/http_types.hpp"

namespace fleet::agent::kube {

enum class LroState { kInProgress, kSucceeded, kFailed, kCanceled };
std::string_view to_string(LroState state);

struct LroStatus {
  LroState state = LroState::kInProgress;
  std::string raw_status;      // as ARM wrote it ("InProgress"), for progress events
  std::optional<int> percent;  // percentComplete, when given
  std::string error_code;      // of a failed or canceled operation
  std::string error_message;
};
// An Azure-AsyncOperation status body. A body without a string "status" is still in progress (ARM may answer
// before it has written one); a terminal state without an error gets no code.
LroStatus parse_lro_status(const nlohmann::json& body);

// How to follow an accepted request: the status resource if there is one (it tells success from failure), else
// the Location URL (202 while running; 200/204 done; an error status failed), else nothing to follow.
struct LroPoll {
  enum class Kind { kNone, kAsyncOperation, kLocation } kind = Kind::kNone;
  std::string url;  // absolute, as ARM sent it
};
LroPoll lro_poll_of(int status, const http::Headers& headers);

// Retry-After as delay-seconds ("10"); an HTTP-date or garbage → nullopt (the caller's default interval).
std::optional<std::chrono::seconds> retry_after(const http::Headers& headers);
// How long to wait before the next poll: Retry-After when ARM sent one, else `fallback`, kept within [floor, cap]
// so that neither a missing header nor a huge one stalls or floods.
std::chrono::milliseconds next_poll_delay(const http::Headers& headers, std::chrono::milliseconds fallback,
                                          std::chrono::milliseconds floor, std::chrono::milliseconds cap);

// The path and query of `url` when it is on `origin` ("https://management.azure.com"), else nullopt: the bearer
// token is only ever sent to the ARM endpoint, never to a host a response header names.
std::optional<std::string> same_origin_target(std::string_view url, std::string_view origin);

}  // namespace fleet::agent::kube
