#include "placement/dotted_version.hpp"

#include <charconv>
#include <cstddef>

namespace fleet::placement {

namespace {
constexpr std::size_t kMaxParts = 4;
constexpr int kMaxPart = 999'999;
}  // namespace

std::strong_ordering DottedVersion::operator<=>(const DottedVersion& other) const {
  const std::size_t n = std::max(parts.size(), other.parts.size());
  for (std::size_t i = 0; i < n; ++i) {
    const int a = i < parts.size() ? parts[i] : 0;
    const int b = i < other.parts.size() ? other.parts[i] : 0;
    if (a != b) return a <=> b;
  }
  return std::strong_ordering::equal;
}

std::optional<DottedVersion> parse_dotted_version(std::string_view text) {
  DottedVersion version;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view part =
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty() || part.size() > 6 || version.parts.size() == kMaxParts) return std::nullopt;
    int value = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc{} || end != part.data() + part.size() || value < 0 || value > kMaxPart) return std::nullopt;
    version.parts.push_back(value);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return version;
}

std::string to_string(const DottedVersion& version) {
  std::string text;
  for (std::size_t i = 0; i < version.parts.size(); ++i) {
    if (i > 0) text += '.';
    text += std::to_string(version.parts[i]);
  }
  return text;
}

}  // namespace fleet::placement
