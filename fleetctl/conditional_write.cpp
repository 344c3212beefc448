#include "fleetctl/conditional_write.hpp"

#include <utility>

#include "fleetctl/json_fields.hpp"

namespace fleet::ctl {

std::string if_match_for(const ApiResponse& got) {
  if (!got.etag.empty()) return got.etag;
  return "\"" + string_field(got.body, "resourceVersion") + "\"";
}

Result<WriteOutcome> read_modify_write(ApiClient& api, const std::string& path, const PlanWrite& plan,
                                       std::optional<ApiResponse> first_read) {
  for (int attempt = 1;; ++attempt) {
    WriteOutcome outcome;
    if (first_read) {
      outcome.current = std::move(*first_read);
      first_read.reset();
    } else {
      auto got = api.call("GET", path);
      if (!got) return got.error();
      outcome.current = std::move(*got);
    }
    auto planned = plan(outcome.current);
    if (!planned) return planned.error();
    if (!planned->has_value()) return outcome;
    auto written = api.call((*planned)->method, path, (*planned)->body, {{"If-Match", if_match_for(outcome.current)}});
    if (written) {
      outcome.written = std::move(*written);
      return outcome;
    }
    if (written.error().code != ErrorCode::kPreconditionFailed || attempt >= kMaxWriteAttempts) {
      return written.error();
    }
  }
}

}  // namespace fleet::ctl
