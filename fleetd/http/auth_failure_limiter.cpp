#include "fleetd/http/auth_failure_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace fleet {

std::string_view AuthFailureLimiter::source_of(std::string_view remote_address) {
  if (!remote_address.empty() && remote_address.front() == '[') {
    const auto close = remote_address.find(']');
    return close == std::string_view::npos ? remote_address : remote_address.substr(1, close - 1);
  }
  const auto colon = remote_address.rfind(':');
  // One colon: IPv4 with a port. None, or several without brackets: an address with no port.
  if (colon == std::string_view::npos || remote_address.find(':') != colon) return remote_address;
  return remote_address.substr(0, colon);
}

AuthFailureLimiter::Bucket& AuthFailureLimiter::refill(std::string_view source, Clock::SteadyTime now) {
  auto it = buckets_.find(std::string(source));
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_sources) buckets_.clear();
    it = buckets_.emplace(std::string(source), Bucket{options_.burst, now}).first;
    return it->second;
  }
  Bucket& b = it->second;
  if (now > b.at) {
    const double minutes = std::chrono::duration<double, std::ratio<60>>(now - b.at).count();
    b.tokens = std::min(options_.burst, b.tokens + minutes * options_.per_minute);
    b.at = now;
  }
  return b;
}

std::optional<std::chrono::seconds> AuthFailureLimiter::refused(std::string_view source, Clock::SteadyTime now) {
  if (options_.burst <= 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (buckets_.find(std::string(source)) == buckets_.end()) return std::nullopt;  // never failed: no entry made
  const Bucket& b = refill(source, now);
  constexpr double kRounding = 1e-9;  // refills summed in steps must not miss a whole token by a rounding error
  if (b.tokens >= 1 - kRounding) return std::nullopt;
  if (options_.per_minute <= 0) return std::chrono::seconds(60);
  const double seconds = (1 - b.tokens) * 60 / options_.per_minute;
  return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(seconds - 1e-6))));
}

void AuthFailureLimiter::failed(std::string_view source, Clock::SteadyTime now) {
  if (options_.burst <= 0) return;
  std::lock_guard lock(mutex_);
  Bucket& b = refill(source, now);
  b.tokens = std::max(-options_.burst, b.tokens - 1);  // a flood digs no deeper than one burst of debt
}

std::size_t AuthFailureLimiter::sources() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace fleet
