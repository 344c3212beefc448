#pragma once
// The invariant most decoders share: what a decoder accepted, its encoder writes, and the decoder accepts that
// again, unchanged. A failure means a stored object could not be read back (a row fleetd wrote and then refuses).
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "fuzz/fuzz_target.hpp"

namespace fleet::fuzz {

template <class T, class Encode, class Decode>
void check_round_trip(const Result<T>& first, Encode encode, Decode decode) {
  if (!first) return;
  const nlohmann::json written = encode(*first);
  auto again = decode(written);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(encode(*again) == written);
}

}  // namespace fleet::fuzz
