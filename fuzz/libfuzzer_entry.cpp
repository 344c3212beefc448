// libFuzzer's entry point for one harness (scripts/fuzz builds one executable per harness, each with this file and
// FLEET_FUZZ_HARNESS_NAME set). Coverage, corpus growth and crash files are libFuzzer's.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/log.hpp"
#include "fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fleet::log::set_min_level(fleet::log::Level::kError);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fleet::fuzz::Harness harness = [] {
    const auto found = fleet::fuzz::harnesses().find(FLEET_FUZZ_HARNESS_NAME);
    if (found == fleet::fuzz::harnesses().end()) {
      std::fprintf(stderr, "no harness %s\n", FLEET_FUZZ_HARNESS_NAME);
      std::abort();
    }
    return found->second;
  }();
  harness(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
