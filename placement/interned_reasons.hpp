#pragma once
// Reasons (a rejection code and a sentence) interned: each distinct pair gets a small id and its text is kept once.
// The engine's cached verdicts and every decision's rejection list hold their reasons this way. A decision has a
// handful of distinct reasons and a batch keeps ten thousand decisions, so up to kScanUpTo reasons are found by a
// scan and no index is kept; past that, an index by text (looked up by string_view, allocating nothing) chains
// the few codes one text comes with.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "placement/rejection.hpp"

namespace fleet::placement {

class InternedReasons {
 public:
  std::uint32_t intern(RejectionCode code, std::string_view text);
  RejectionCode code(std::uint32_t id) const { return reasons_[id].code; }
  const std::string& text(std::uint32_t id) const { return reasons_[id].text; }
  std::size_t size() const { return reasons_.size(); }

 private:
  static constexpr std::uint32_t kNone = 0xffffffff;
  static constexpr std::size_t kScanUpTo = 8;
  struct Reason {
    RejectionCode code = RejectionCode::kNotSelected;
    std::uint32_t next_with_text = kNone;  // another reason with the same text and another code
    std::string text;
  };
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::uint32_t add(RejectionCode code, std::string_view text);
  void index(std::uint32_t id);

  std::vector<Reason> reasons_;
  // The first reason with each text; empty while there are at most kScanUpTo reasons.
  std::unordered_map<std::string, std::uint32_t, TextHash, std::equal_to<>> first_with_text_;
};

}  // namespace fleet::placement
