#include "placement/rejection_list.hpp"

#include <algorithm>
#include <limits>

namespace fleet::placement {

std::string_view RejectionList::cluster_name(const Entry& entry) const {
  if ((entry.cluster & kForeign) != 0) return reasons_.text(entry.cluster & ~kForeign);
  return (*names_)[entry.cluster];
}

RejectionList::NotSelected RejectionList::not_selected(const Entry& entry) const {
  if ((entry.detail & kSideTable) != 0) return not_selected_[entry.detail & ~(kNotSelected | kSideTable)];
  const std::uint32_t packed = entry.detail & ~kNotSelected;
  return {static_cast<std::int32_t>(packed >> kScoreBits), static_cast<std::int32_t>(packed & ((1U << kScoreBits) - 1)),
          tail_};
}

RejectionList::Entry RejectionList::entry(std::size_t i) const {
  if (!in_order_) return entries_[i];
  // The last gap at or before entry i: a decision has a few (its chosen clusters).
  const auto after =
      std::upper_bound(gaps_.begin(), gaps_.end(), i, [](std::size_t at, const Gap& gap) { return at < gap.from; });
  const std::uint32_t skipped = after == gaps_.begin() ? 0 : std::prev(after)->skipped;
  return {static_cast<std::uint32_t>(i) + skipped, details_[i]};
}

void RejectionList::append(std::uint32_t cluster, std::uint32_t detail) {
  if (in_order_) {
    if ((cluster & kForeign) == 0 && cluster >= next_cluster_) {
      if (cluster > next_cluster_) {
        skipped_ += cluster - next_cluster_;
        gaps_.push_back({static_cast<std::uint32_t>(details_.size()), skipped_});
      }
      details_.push_back(detail);
      next_cluster_ = cluster + 1;
      return;
    }
    leave_order();
  }
  entries_.push_back({cluster, detail});
}

void RejectionList::leave_order() {
  entries_.reserve(details_.size() + 1);
  for (std::size_t i = 0; i < details_.size(); ++i) entries_.push_back(entry(i));
  in_order_ = false;
  details_ = {};
  gaps_ = {};
}

Rejection RejectionList::operator[](std::size_t i) const {
  const Entry entry = this->entry(i);
  Rejection out;
  out.cluster = std::string(cluster_name(entry));
  if ((entry.detail & kNotSelected) == 0) {
    out.code = reasons_.code(entry.detail);
    out.reason = reasons_.text(entry.detail);
    return out;
  }
  const NotSelected numbers = not_selected(entry);
  const std::string& text = reasons_.text(numbers.tail);
  out.code = RejectionCode::kNotSelected;
  std::string& reason = out.reason;
  reason.reserve(32 + text.size());
  reason += "fits ";
  reason += std::to_string(numbers.fit);
  reason += numbers.fit == 1 ? " replica, score " : " replicas, score ";
  reason += std::to_string(numbers.score);
  reason += "; ";
  reason += text;
  return out;
}

void RejectionList::push_back(const Rejection& rejection) {
  // The name is kept as a reason's text (its code unused).
  append(intern(RejectionCode::kNoSuchCluster, rejection.cluster) | kForeign, intern(rejection.code, rejection.reason));
}

void RejectionList::add(std::size_t cluster, RejectionCode code, std::string_view reason) {
  add_reason(cluster, intern(code, reason));
}

void RejectionList::add_reason(std::size_t cluster, std::uint32_t reason) {
  append(static_cast<std::uint32_t>(cluster), reason);
}

void RejectionList::add_not_selected(std::size_t cluster, int fit, long long score, std::uint32_t tail) {
  fit = std::max(fit, 0);
  const auto clamped = static_cast<std::int32_t>(
      std::clamp<long long>(score, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
  if (!has_tail_) {
    tail_ = tail;
    has_tail_ = true;
  }
  std::uint32_t detail = 0;
  if (tail == tail_ && fit < (1 << kFitBits) && clamped >= 0 && clamped < (1 << kScoreBits)) {
    detail = kNotSelected | (static_cast<std::uint32_t>(fit) << kScoreBits) | static_cast<std::uint32_t>(clamped);
  } else {
    detail = kNotSelected | kSideTable | static_cast<std::uint32_t>(not_selected_.size());
    not_selected_.push_back({fit, clamped, tail});
  }
  append(static_cast<std::uint32_t>(cluster), detail);
}

void RejectionList::sort_by_cluster() {
  if (in_order_) return;  // by index into the names table, which is sorted
  // The names table is sorted, so two of its clusters compare by index; a foreign name compares as text.
  const auto before = [this](const Entry& a, const Entry& b) {
    if (((a.cluster | b.cluster) & kForeign) == 0) return a.cluster < b.cluster;
    return cluster_name(a) < cluster_name(b);
  };
  // The engine adds the filters' rejections in cluster order and then the selection's: usually two sorted runs,
  // which one merge puts in order.
  const auto run_end = std::is_sorted_until(entries_.begin(), entries_.end(), before);
  if (run_end == entries_.end()) return;
  if (!std::is_sorted(run_end, entries_.end(), before)) std::stable_sort(run_end, entries_.end(), before);
  std::inplace_merge(entries_.begin(), run_end, entries_.end(), before);
}

bool RejectionList::operator==(const RejectionList& other) const {
  if (size() != other.size()) return false;
  for (std::size_t i = 0; i < size(); ++i) {
    if (!((*this)[i] == other[i])) return false;
  }
  return true;
}

}  // namespace fleet::placement
