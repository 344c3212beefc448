#pragma once
// Bearer tokens: generated from 32 random bytes, shown once, stored only as their SHA-256. Roles are ordered
// viewer < operator < admin; a route names the least role it needs.
#include <optional>
#include <string>
#include <string_view>

namespace fleet {

enum class Role { kViewer = 1, kOperator = 2, kAdmin = 3 };

std::optional<Role> parse_role(std::string_view name);
const char* role_name(Role role);

// "fltd_" + 43 base64url characters. The prefix lets secret scanners spot leaked tokens.
std::string generate_token();
// Lower-case hex SHA-256 of any bytes (tokens, request bodies for Idempotency-Key).
std::string sha256_hex(std::string_view data);
// What the database stores and looks up for a token: its sha256_hex.
inline std::string hash_token(std::string_view token) {
  return sha256_hex(token);
}
// Tokens longer than this are refused before hashing (an untrusted header has a size limit).
inline constexpr std::size_t kMaxTokenLength = 256;

// "Bearer <token>" → the token; nullopt when the header is not a well-formed bearer credential.
std::optional<std::string> bearer_token(std::string_view authorization_header);

// Who made a request, for authorization and the audit log.
struct Principal {
  std::string token_id;  // uuid of the api_tokens row
  Role role = Role::kViewer;
  std::string actor() const { return "token:" + token_id; }
};

}  // namespace fleet
