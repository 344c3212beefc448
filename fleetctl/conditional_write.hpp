#pragma once
// Read-modify-write of one object for the commands that change what they read (label, taint, apply): GET it, decide
// the write from what it holds, send that with If-Match of the read. A 412 means someone wrote in between, so the
// object is read again and the write decided again, a bounded number of times (a busy object must not loop forever).
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "fleetctl/api_client.hpp"

namespace fleet::ctl {

inline constexpr int kMaxWriteAttempts = 3;

struct PlannedWrite {
  std::string method;  // PATCH or PUT
  nlohmann::json body;
};

// nullopt: the object already is as wanted, nothing to send. An Error stops without writing.
using PlanWrite = std::function<Result<std::optional<PlannedWrite>>(const ApiResponse& current)>;

struct WriteOutcome {
  ApiResponse current;                 // the last read, the one the write was decided from
  std::optional<ApiResponse> written;  // the write's answer; nullopt when nothing was sent
};

// `first_read`: a GET the caller already made (apply reads first to know whether to create); the first attempt
// uses it instead of reading again.
Result<WriteOutcome> read_modify_write(ApiClient& api, const std::string& path, const PlanWrite& plan,
                                       std::optional<ApiResponse> first_read = std::nullopt);

// If-Match wants the ETag; an older server without one still gives resourceVersion in the body.
std::string if_match_for(const ApiResponse& got);

}  // namespace fleet::ctl
