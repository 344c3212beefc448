#pragma once
// One fuzz harness = one function from bytes to nothing, registered under a name. The same harness sources build
// two ways (fuzz/README.md): into `fleet_fuzz` with GCC, whose driver replays the seed corpus and then mutates it
// for a few seconds (the short run in the test command), and, with clang, into one libFuzzer executable per
// harness (scripts/fuzz, the long coverage-guided runs). A harness fails by aborting (FUZZ_CHECK), which both
// drivers report as a crash with the input that caused it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

namespace fleet::fuzz {

using Harness = void (*)(std::string_view data);

// name → harness, filled by FLEET_FUZZ_HARNESS at static initialisation.
std::map<std::string, Harness>& harnesses();

struct Registration {
  Registration(const char* name, Harness harness) { harnesses().emplace(name, harness); }
};

// An invariant of the code under test (not of the input) that the harness checks.
[[noreturn]] inline void check_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace fleet::fuzz

#define FUZZ_CHECK(expr) ((expr) ? (void)0 : ::fleet::fuzz::check_failed(#expr, __FILE__, __LINE__))

// Defines and registers a harness: FLEET_FUZZ_HARNESS(label_selector) { ... use `data` ... }
#define FLEET_FUZZ_HARNESS(name)                                                                  \
  static void fuzz_harness_##name(std::string_view data);                                         \
  static const ::fleet::fuzz::Registration fuzz_registration_##name{#name, &fuzz_harness_##name}; \
  static void fuzz_harness_##name(std::string_view data)
