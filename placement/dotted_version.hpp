#pragma once
// GPU driver and CUDA versions ("550.90.07", "12.4"): dot-separated non-negative integers, compared number by
// number, so that 550.90.07 > 535.104.12 and 12.10 > 12.4 (string comparison gets both wrong). A missing
// trailing part counts as 0: 550 == 550.0.0.
#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::placement {

struct DottedVersion {
  std::vector<int> parts;  // 1..4 parts, each 0..999999
  std::strong_ordering operator<=>(const DottedVersion& other) const;
  bool operator==(const DottedVersion& other) const { return (*this <=> other) == std::strong_ordering::equal; }
};

// nullopt for anything but 1..4 dot-separated integers ("550.90.07", "12.4", "550").
std::optional<DottedVersion> parse_dotted_version(std::string_view text);
std::string to_string(const DottedVersion& version);  // parts joined by dots, without leading zeros ("550.90.7")

}  // namespace fleet::placement
