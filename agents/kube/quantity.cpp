#include "agents/kube/quantity.hpp"

#include <string>

namespace fleet::agent::kube {
namespace {

using Int = __int128;  // wide enough for an int64 mantissa times any multiplier that still fits the result

constexpr Int kInt64Max = static_cast<Int>(INT64_MAX);

struct Parsed {
  bool negative = false;
  Int mantissa = 0;  // the digits, without the decimal point
  int exp10 = 0;     // value = mantissa × 10^exp10 × 2^exp2
  int exp2 = 0;
};

Error quantity_error(std::string_view text, std::string_view why) {
  return make_error(ErrorCode::kInvalid, "invalid quantity \"" + std::string(text) + "\": " + std::string(why));
}

Result<Parsed> parse(std::string_view text) {
  Parsed q;
  std::string_view s = text;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    q.negative = s.front() == '-';
    s.remove_prefix(1);
  }
  bool digits = false;
  bool point = false;
  int significant = 0;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    digits = true;
    // Leading zeros carry no precision; more than 18 significant digits could overflow and no node reports them.
    if (q.mantissa == 0 && c == '0') {
      if (point) --q.exp10;
      continue;
    }
    if (++significant > 18) return quantity_error(text, "too many digits");
    q.mantissa = q.mantissa * 10 + (c - '0');
    if (point) --q.exp10;
  }
  if (!digits) return quantity_error(text, "expected a number");
  std::string_view suffix = s.substr(i);
  struct Suffix {
    std::string_view text;
    int exp10;
    int exp2;
  };
  static constexpr Suffix kSuffixes[] = {
      {"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
      {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"", 0, 0},    {"k", 3, 0},   {"M", 6, 0},
      {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},
  };
  for (const Suffix& x : kSuffixes) {
    if (suffix == x.text) {
      q.exp10 += x.exp10;
      q.exp2 = x.exp2;
      return q;
    }
  }
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view e = suffix.substr(1);
    bool neg = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
      neg = e[0] == '-';
      e.remove_prefix(1);
    }
    if (e.empty() || e.size() > 3) return quantity_error(text, "invalid exponent");
    int value = 0;
    for (char c : e) {
      if (c < '0' || c > '9') return quantity_error(text, "invalid exponent");
      value = value * 10 + (c - '0');
    }
    q.exp10 += neg ? -value : value;
    return q;
  }
  return quantity_error(text, "unknown suffix \"" + std::string(suffix) + "\"");
}

// mantissa × 10^exp10 × 2^exp2, rounded toward +∞, when it fits an int64.
Result<std::int64_t> scaled(std::string_view text, const Parsed& q, int extra_exp10) {
  if (q.mantissa == 0) return std::int64_t{0};
  Int num = q.mantissa;
  int exp10 = q.exp10 + extra_exp10;
  for (int k = 0; k < q.exp2; ++k) {
    num *= 2;
    if (num > kInt64Max * 1000000000000000000LL) return quantity_error(text, "too large");
  }
  Int den = 1;
  for (; exp10 > 0; --exp10) {
    num *= 10;
    if (num > kInt64Max * 1000000000000000000LL) return quantity_error(text, "too large");
  }
  for (; exp10 < 0; ++exp10) {
    den *= 10;
    if (den > kInt64Max * 1000000000000000000LL) return std::int64_t{q.negative ? 0 : 1};  // a sliver: rounds to ±1/0
  }
  Int whole = num / den;
  if (q.negative) {
    whole = -whole;  // toward +∞ for negatives is truncation
  } else if (num % den != 0) {
    whole += 1;
  }
  if (whole > kInt64Max || whole < -kInt64Max) return quantity_error(text, "too large");
  return static_cast<std::int64_t>(whole);
}

}  // namespace

Result<std::int64_t> quantity_value(std::string_view text) {
  auto q = parse(text);
  if (!q) return q.error();
  return scaled(text, *q, 0);
}

Result<std::int64_t> quantity_milli(std::string_view text) {
  auto q = parse(text);
  if (!q) return q.error();
  return scaled(text, *q, 3);
}

}  // namespace fleet::agent::kube
