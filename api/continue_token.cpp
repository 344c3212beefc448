#include "api/continue_token.hpp"

#include <array>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

namespace fleet::api {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr int kTokenVersion = 1;

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t n = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8) | std::uint8_t(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  std::size_t rest = in.size() - i;
  if (rest == 1) {
    std::uint32_t n = std::uint8_t(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    std::uint32_t n = (std::uint8_t(in[i]) << 16) | (std::uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;  // unpadded (RFC 4648 §5): tokens travel in query strings, where '=' would need escaping
}

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict: unpadded, alphabet only, no leftover bits, so that each name has exactly one token.
std::optional<std::string> base64url_decode(std::string_view in) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = sextet(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

Error bad_token(std::string_view why) {
  return make_error(ErrorCode::kInvalid,
                    "continue: " + std::string(why) + "; pass the token from the previous page unchanged, or omit it",
                    "continue", "invalid-query");
}

}  // namespace

std::string encode_continue(std::string_view last_name) {
  nlohmann::json j = {{"v", kTokenVersion}, {"after", std::string(last_name)}};
  return base64url_encode(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<std::string> decode_continue(std::string_view token) {
  if (token.empty()) return bad_token("token is empty");
  if (token.size() > kMaxContinueTokenBytes) return bad_token("token is too long");
  auto raw = base64url_decode(token);
  if (!raw) return bad_token("token is not valid base64url");
  nlohmann::json j = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad_token("token is not a continue token");
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<std::int64_t>() != kTokenVersion) {
    return bad_token("token has an unsupported version");
  }
  auto after = j.find("after");
  if (after == j.end() || !after->is_string() || after->get_ref<const std::string&>().empty() || j.size() != 2) {
    return bad_token("token is not a continue token");
  }
  return after->get<std::string>();
}

}  // namespace fleet::api
