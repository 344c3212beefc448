#include "agents/report_pacing.hpp"

#include <algorithm>

namespace fleet::agent {

std::chrono::steady_clock::time_point report_due(const protocol::CommandStatus& status,
                                                 std::chrono::steady_clock::time_point last_report,
                                                 std::chrono::steady_clock::time_point now,
                                                 std::chrono::milliseconds interval) {
  if (protocol::is_final(status.state)) return now;
  return std::max(now, last_report + interval);
}

}  // namespace fleet::agent
