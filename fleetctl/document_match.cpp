#include "fleetctl/document_match.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time_format.hpp"

namespace fleet::ctl {
namespace {

using nlohmann::json;

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<std::uint64_t> to_number(std::string_view s) {
  std::uint64_t v = 0;
  if (!is_digits(s) || s.size() > 18) return std::nullopt;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// "1h30m", "90s", "0s": whole seconds, as fleetd's strategy grammar writes and reads them.
std::optional<std::uint64_t> duration_seconds(std::string_view s) {
  std::uint64_t total = 0;
  std::size_t start = 0;
  if (s.empty()) return std::nullopt;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') continue;
    const std::uint64_t unit = s[i] == 'h' ? 3600 : s[i] == 'm' ? 60 : s[i] == 's' ? 1 : 0;
    auto count = to_number(s.substr(start, i - start));
    if (unit == 0 || !count) return std::nullopt;
    total += *count * unit;
    start = i + 1;
  }
  if (start != s.size()) return std::nullopt;
  return total;
}

// "2025-11-03" is midnight UTC, as the catalog reads it.
std::optional<std::chrono::system_clock::time_point> time_of(const std::string& s) {
  if (s.size() == 10) return parse_timestamp(s + "T00:00:00Z");
  return parse_timestamp(s);
}

// "v1.32.7", "535.104.05": at least two dot-separated numbers, compared as numbers.
std::optional<std::vector<std::uint64_t>> dotted(std::string_view s) {
  if (!s.empty() && s.front() == 'v') s.remove_prefix(1);
  std::vector<std::uint64_t> parts;
  while (true) {
    const auto dot = s.find('.');
    auto part = to_number(s.substr(0, dot));
    if (!part) return std::nullopt;
    parts.push_back(*part);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  if (parts.size() < 2) return std::nullopt;
  return parts;
}

bool strings_match(const std::string& given, const std::string& stored) {
  if (given == stored) return true;
  if (auto a = duration_seconds(given), b = duration_seconds(stored); a && b) return *a == *b;
  if (auto a = time_of(given), b = time_of(stored); a && b) return *a == *b;
  if (auto a = dotted(given), b = dotted(stored); a && b) return *a == *b;
  return false;
}

// A number against text: its decimal form, or a duration in seconds.
bool number_matches_text(const json& number, const std::string& text) {
  if (!number.is_number_unsigned() && !(number.is_number_integer() && number.get<std::int64_t>() >= 0)) {
    return false;
  }
  const auto value = number.get<std::uint64_t>();
  if (auto parsed = to_number(text)) return *parsed == value;
  if (auto seconds = duration_seconds(text)) return *seconds == value;
  return false;
}

bool scalars_match(const json& given, const json& stored, ScalarMatch scalars) {
  if (given == stored) return true;
  if (given.is_number() && stored.is_number()) return given.get<double>() == stored.get<double>();
  if (scalars == ScalarMatch::kExact) return false;
  if (given.is_string() && stored.is_string()) {
    return strings_match(given.get_ref<const std::string&>(), stored.get_ref<const std::string&>());
  }
  if (given.is_number() && stored.is_string()) return number_matches_text(given, stored.get_ref<const std::string&>());
  if (given.is_string() && stored.is_number()) return number_matches_text(stored, given.get_ref<const std::string&>());
  return false;
}

bool is_empty_value(const json& given) {
  return given.is_null() || (given.is_string() && given.get_ref<const std::string&>().empty()) ||
         ((given.is_array() || given.is_object()) && given.empty());
}

}  // namespace

bool document_matches(const json& document, const json& stored, ScalarMatch scalars) {
  if (document.is_object()) {
    if (!stored.is_object()) return false;
    for (const auto& [key, value] : document.items()) {
      const auto it = stored.find(key);
      if (it == stored.end() ? !is_empty_value(value) : !document_matches(value, *it, scalars)) return false;
    }
    return true;
  }
  if (document.is_array()) {
    if (!stored.is_array() || stored.size() != document.size()) return false;
    for (std::size_t i = 0; i < document.size(); ++i) {
      if (!document_matches(document[i], stored[i], scalars)) return false;
    }
    return true;
  }
  return scalars_match(document, stored, scalars);
}

}  // namespace fleet::ctl
