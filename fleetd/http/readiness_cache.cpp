#include "fleetd/http/readiness_cache.hpp"

namespace fleet {

std::optional<ReadinessCache::Answer> ReadinessCache::answer_or_claim(Clock::SteadyTime now) {
  std::lock_guard lock(mutex_);
  if (last_ && now - checked_at_ < options_.fresh) return last_;
  // Someone is checking: the last answer stands while it is not too old and the check not too slow.
  if (last_ && checking_ && now - checked_at_ < options_.max_stale && now - claimed_at_ < options_.max_stale) {
    return last_;
  }
  checking_ = true;
  claimed_at_ = now;
  return std::nullopt;
}

void ReadinessCache::store(Answer answer, Clock::SteadyTime now) {
  std::lock_guard lock(mutex_);
  last_ = std::move(answer);
  checked_at_ = now;
  checking_ = false;
}

}  // namespace fleet
