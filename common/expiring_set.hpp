#pragma once
// A bounded set of keys that each expire: the negative caches in front of credential lookups (API tokens in
// ApiService, agent credentials in HeartbeatCache, issue #10). A key the database did not know is answered from
// here for `ttl` instead of being looked up again. At `max_entries` the set is emptied rather than grown: a flood of
// distinct keys then costs a lookup each, as with no cache, and no memory. Thread-safe.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"

namespace fleet {

class ExpiringSet {
 public:
  ExpiringSet(std::chrono::milliseconds ttl, std::size_t max_entries) : ttl_(ttl), max_entries_(max_entries) {}

  // True while `key` was inserted less than ttl before `now`; an expired key is dropped.
  bool contains(const std::string& key, Clock::SteadyTime now) {
    std::lock_guard lock(mutex_);
    auto it = until_.find(key);
    if (it == until_.end()) return false;
    if (now >= it->second) {
      until_.erase(it);
      return false;
    }
    return true;
  }

  // (Re)starts `key`'s ttl at `now`.
  void insert(const std::string& key, Clock::SteadyTime now) {
    std::lock_guard lock(mutex_);
    if (until_.size() >= max_entries_ && until_.find(key) == until_.end()) until_.clear();
    until_[key] = now + ttl_;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return until_.size();
  }

 private:
  const std::chrono::milliseconds ttl_;
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Clock::SteadyTime> until_;  // key → when it expires
};

}  // namespace fleet
