// List continue tokens: opaque to clients, so anything may come back in ?continue=.
#include "api/continue_token.hpp"
#include "common/utf8.hpp"
#include "fuzz/fuzz_target.hpp"

FLEET_FUZZ_HARNESS(continue_token) {
  using namespace fleet;
  auto decoded = api::decode_continue(data);
  if (decoded) {
    // A token that decodes names a position that encodes to a token decoding to the same position.
    auto again = api::decode_continue(api::encode_continue(*decoded));
    FUZZ_CHECK(again.ok() && *again == *decoded);
  }
  // And every name the server could have ended a page on (non-empty UTF-8; names are far shorter than a token)
  // survives the trip.
  if (data.empty() || !is_valid_utf8(data)) return;
  const std::string token = api::encode_continue(data);
  if (token.size() > api::kMaxContinueTokenBytes) return;
  auto trip = api::decode_continue(token);
  FUZZ_CHECK(trip.ok() && *trip == data);
}
