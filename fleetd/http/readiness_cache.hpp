#pragma once
// /readyz without a database round trip per probe (issue #10): load balancers and kubelets probe every replica
// every few seconds, and anyone can call it unauthenticated. The last answer is reused for `fresh`; past that one
// caller re-checks while the others keep getting the last answer, up to `max_stale`, so a burst of probes costs
// one query. A failed check is remembered the same way: a replica that lost its database says so within `fresh`
// plus one query's time.
// Pure and thread-safe: the caller passes the time and runs the check.
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.hpp"

namespace fleet {

class ReadinessCache {
 public:
  struct Options {
    std::chrono::milliseconds fresh{1000};
    std::chrono::milliseconds max_stale{5000};  // a check running longer than this no longer holds others back
  };
  struct Answer {
    bool ready = false;
    std::string reason;  // why not, when not ready
  };
  explicit ReadinessCache(Options options) : options_(options) {}

  // The answer to give now, or nullopt: the caller checks and calls store() (it alone, until it does or the last
  // answer is older than max_stale).
  std::optional<Answer> answer_or_claim(Clock::SteadyTime now);
  void store(Answer answer, Clock::SteadyTime now);

 private:
  Options options_;
  std::mutex mutex_;
  std::optional<Answer> last_;
  Clock::SteadyTime checked_at_{};
  bool checking_ = false;
  Clock::SteadyTime claimed_at_{};
};

}  // namespace fleet
