#pragma once
// Test support: waits for state that another thread (a server, a driver, a fake controller) updates.
#include <chrono>
#include <functional>
#include <thread>

namespace fleet::testing {

// Polls `done` every `step` until it holds (true) or `within` passes (false). The caller asserts on the result, so a
// condition that never comes true fails the test instead of hanging it.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds within = std::chrono::seconds(5),
                       std::chrono::milliseconds step = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
  return true;
}

}  // namespace fleet::testing
