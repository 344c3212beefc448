#pragma once
// UTF-8 at the edges (issue #10): what a client sends in a path, a query or a JSON member is checked before it can
// reach PostgreSQL (which refuses invalid UTF-8 in text, so an unchecked byte became a 503), and a value cut short
// for a message or an audit row is cut between characters, never inside one.
#include <cstddef>
#include <string>
#include <string_view>

namespace fleet {

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view text);

// At most `max_bytes` of `text`, ending on a character boundary. Invalid input is cut at its first bad byte.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

}  // namespace fleet
