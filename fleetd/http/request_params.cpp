#include "fleetd/http/request_params.hpp"

#include <algorithm>
#include <charconv>

#include "api/continue_token.hpp"

namespace fleet {
namespace {

constexpr std::size_t kMaxFilterValue = 253;
constexpr std::size_t kMaxKeyEcho = 64;  // of an unknown key, in the message

std::string allowed_text(const ListParamSpec& spec) {
  std::string out;
  for (const auto& f : spec.filters) out += f + ", ";
  if (spec.label_selector) out += "labelSelector, ";
  return out + "limit, continue";
}

}  // namespace

Result<int> parse_limit(const std::string& value, int max) {
  int n = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size() || n < 1 || n > max) {
    return make_error(ErrorCode::kInvalid, "limit must be a whole number from 1 to " + std::to_string(max), "limit",
                      "invalid-query");
  }
  return n;
}

Result<std::optional<std::int64_t>> parse_if_match(const Call& call) {
  const std::string* h = call.req.header("if-match");
  if (!h) return std::optional<std::int64_t>{};
  std::string_view v = *h;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v == "*") return std::optional<std::int64_t>{};
  if (v.substr(0, 2) == "W/") v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < 0) {
    return make_error(ErrorCode::kInvalid, "If-Match must be a resourceVersion such as \"42\"", "If-Match",
                      "malformed-request");
  }
  return std::optional<std::int64_t>{n};
}

Result<ListParams> parse_list_params(const Call& call, const ListParamSpec& spec) {
  ListParams out;
  out.limit = spec.default_limit;
  for (const auto& [key, value] : call.query) {
    if (key == "limit") {
      auto limit = parse_limit(value, spec.max_limit);
      if (!limit) return limit.error();
      out.limit = *limit;
    } else if (key == "continue") {
      auto after = api::decode_continue(value);
      if (!after) return after.error();
      out.after = std::move(*after);
    } else if (key == "labelSelector" && spec.label_selector) {
      auto selector = model::parse_label_selector(value);
      if (!selector) return selector.error();
      out.selector = std::move(*selector);
    } else if (std::find(spec.filters.begin(), spec.filters.end(), key) != spec.filters.end()) {
      if (value.size() > kMaxFilterValue) {
        return make_error(ErrorCode::kInvalid, key + ": too long", key, "invalid-query");
      }
      out.filters[key] = value;
    } else {
      const std::string shown = key.substr(0, kMaxKeyEcho);
      return make_error(ErrorCode::kInvalid,
                        "unknown query parameter \"" + shown + "\" (allowed: " + allowed_text(spec) + ")", shown,
                        "invalid-query");
    }
  }
  return out;
}

Result<SeqListParams> parse_seq_list_params(const Call& call, const ListParamSpec& spec) {
  auto params = parse_list_params(call, spec);
  if (!params) return params.error();
  SeqListParams out{params->limit, 0};
  if (!params->after) return out;
  const std::string& token = *params->after;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), out.seq);
  if (ec != std::errc() || p != token.data() + token.size() || out.seq <= 0) {
    return make_error(ErrorCode::kInvalid, "continue: not a token from this list", "continue", "invalid-query");
  }
  return out;
}

}  // namespace fleet
