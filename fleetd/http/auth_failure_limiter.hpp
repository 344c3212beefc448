#pragma once
// A per-source budget of failed authentications (issue #10): a client that keeps presenting tokens nobody issued
// costs a database read each, so past a burst its requests that would need one are answered 429 with Retry-After.
// A token bucket per source address: `burst` failures at once, then `per_minute` more each minute. A source in
// debt is refused only for work the caches cannot answer: a token this replica already knows goes through, so a
// real client behind a noisy address (a NAT, a proxy) keeps working with a token it used before.
// Pure and thread-safe: the caller passes the time, and nothing here does I/O.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.hpp"

namespace fleet {

class AuthFailureLimiter {
 public:
  struct Options {
    double burst = 100;                 // failures a source may have at once; 0 turns the limit off
    double per_minute = 60;             // failures it earns back each minute
    std::size_t max_sources = 100'000;  // beyond this the table starts over (memory stays bounded)
  };
  explicit AuthFailureLimiter(Options options) : options_(options) {}

  // nullopt when `source` may make a request that needs a database lookup; else how long until it may.
  std::optional<std::chrono::seconds> refused(std::string_view source, Clock::SteadyTime now);
  // A request from `source` failed to authenticate.
  void failed(std::string_view source, Clock::SteadyTime now);
  std::size_t sources() const;

  // The address part of a peer "host:port" ("[::1]:5000" → "::1"), what a source is counted by.
  static std::string_view source_of(std::string_view remote_address);

 private:
  struct Bucket {
    double tokens = 0;
    Clock::SteadyTime at{};
  };
  // The bucket brought up to `now` (a new source starts full).
  Bucket& refill(std::string_view source, Clock::SteadyTime now);

  Options options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace fleet
