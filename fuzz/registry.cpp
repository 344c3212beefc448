#include "fuzz/fuzz_target.hpp"

namespace fleet::fuzz {

std::map<std::string, Harness>& harnesses() {
  static std::map<std::string, Harness> all;  // a function-local static: registrations run before main, in any order
  return all;
}

}  // namespace fleet::fuzz
