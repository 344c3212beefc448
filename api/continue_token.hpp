#pragma once
// Keyset-pagination tokens. Opaque to clients (base64url of {"v":1,"after":"<last name>"}) so that the encoding
// can change; not signed, because all a token can do is move the start of a page the caller may read anyway.
#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace fleet::api {

inline constexpr std::size_t kMaxContinueTokenBytes = 1024;

// Token for the page that starts after `last_name` (the last item of the current page).
std::string encode_continue(std::string_view last_name);
// The `after` name, or kInvalid / `invalid-query` (field "continue") for anything encode_continue did not write.
Result<std::string> decode_continue(std::string_view token);

}  // namespace fleet::api
