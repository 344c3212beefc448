#include "placement/rejection_list.hpp"

#include <algorithm>
#include <limits>

namespace fleet::placement {

std::uint32_t RejectionList::intern(std::string_view text) {
  if (const auto it = text_index_.find(text); it != text_index_.end()) return it->second;
  const auto index = static_cast<std::uint32_t>(texts_.size());
  texts_.emplace_back(text);
  text_index_.emplace(std::string(text), index);
  return index;
}

std::string_view RejectionList::cluster_name(const Entry& entry) const {
  if (entry.foreign_name) return texts_[entry.cluster];
  return (*names_)[entry.cluster];
}

Rejection RejectionList::operator[](std::size_t i) const {
  const Entry& entry = entries_[i];
  Rejection out;
  out.cluster = std::string(cluster_name(entry));
  out.code = entry.code;
  const std::string& text = texts_[entry.text];
  if (entry.fit < 0) {
    out.reason = text;
    return out;
  }
  std::string& reason = out.reason;
  reason.reserve(32 + text.size());
  reason += "fits ";
  reason += std::to_string(entry.fit);
  reason += entry.fit == 1 ? " replica, score " : " replicas, score ";
  reason += std::to_string(entry.score);
  reason += "; ";
  reason += text;
  return out;
}

void RejectionList::push_back(const Rejection& rejection) {
  Entry entry;
  entry.cluster = intern(rejection.cluster);
  entry.foreign_name = true;
  entry.text = intern(rejection.reason);
  entry.code = rejection.code;
  entries_.push_back(entry);
}

void RejectionList::add(std::size_t cluster, RejectionCode code, std::string_view reason) {
  add_interned(cluster, code, intern(reason));
}

void RejectionList::add_interned(std::size_t cluster, RejectionCode code, std::uint32_t text) {
  Entry entry;
  entry.cluster = static_cast<std::uint32_t>(cluster);
  entry.text = text;
  entry.code = code;
  entries_.push_back(entry);
}

void RejectionList::add_not_selected(std::size_t cluster, int fit, long long score, std::uint32_t tail) {
  Entry entry;
  entry.cluster = static_cast<std::uint32_t>(cluster);
  entry.text = tail;
  entry.code = RejectionCode::kNotSelected;
  entry.fit = std::max(fit, 0);
  entry.score = static_cast<std::int32_t>(
      std::clamp<long long>(score, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
  entries_.push_back(entry);
}

void RejectionList::sort_by_cluster() {
  // The names table is sorted, so two of its clusters compare by index; a foreign name compares as text.
  const auto before = [this](const Entry& a, const Entry& b) {
    if (!a.foreign_name && !b.foreign_name) return a.cluster < b.cluster;
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
