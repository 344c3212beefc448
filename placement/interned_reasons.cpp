#include "placement/interned_reasons.hpp"

namespace fleet::placement {

std::uint32_t InternedReasons::intern(RejectionCode code, std::string_view text) {
  if (reasons_.size() <= kScanUpTo) {
    for (std::size_t i = 0; i < reasons_.size(); ++i) {
      if (reasons_[i].code == code && reasons_[i].text == text) return static_cast<std::uint32_t>(i);
    }
    const std::uint32_t id = add(code, text);
    if (reasons_.size() > kScanUpTo) {
      for (std::uint32_t i = 0; i < reasons_.size(); ++i) index(i);
    }
    return id;
  }
  if (const auto found = first_with_text_.find(text); found != first_with_text_.end()) {
    for (std::uint32_t at = found->second; at != kNone; at = reasons_[at].next_with_text) {
      if (reasons_[at].code == code) return at;
    }
  }
  const std::uint32_t id = add(code, text);
  index(id);
  return id;
}

std::uint32_t InternedReasons::add(RejectionCode code, std::string_view text) {
  if (reasons_.empty()) reasons_.reserve(kScanUpTo);
  reasons_.push_back({code, kNone, std::string(text)});
  return static_cast<std::uint32_t>(reasons_.size() - 1);
}

// Adds the reason to the index: the first with its text, or the last of that text's chain.
void InternedReasons::index(std::uint32_t id) {
  const auto [it, added] = first_with_text_.try_emplace(reasons_[id].text, id);
  if (added) return;
  std::uint32_t at = it->second;
  while (reasons_[at].next_with_text != kNone) at = reasons_[at].next_with_text;
  reasons_[at].next_with_text = id;
}

}  // namespace fleet::placement
