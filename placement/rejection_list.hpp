#pragma once
// Every cluster a decision did not choose, with its code and reason, stored compactly. A batch of 10,000 workloads
// over 1,000 clusters rejects about 10 million times; as one Rejection each (two strings, the reason on the heap)
// that was 2.6 GiB and a third of the batch's time (issue #14). Here an entry is 4 bytes: either its reason by its
// index in the decision's own table of distinct reasons (code and text: a decision's rejections repeat a handful
// of sentences) or, for NotSelected (most of them), the two numbers that differ per cluster ("fits 3 replicas,
// score 57; " + the decision's shared tail) packed into the same 32 bits; numbers too large to pack go to a side
// table. The cluster is not stored: the engine adds its clusters in rising index order of its name table (shared
// by every decision of an engine), skipping only the few it chose, so entry i's cluster is i plus the clusters
// skipped before it. A list built otherwise (a name outside the table, clusters out of order) keeps 8 bytes an
// entry, the cluster beside the detail.
//
// Reading yields Rejection values, built on access: iteration, operator[], and equality compare what a person
// would read, so two lists with the same rejections are equal however they are stored.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "placement/interned_reasons.hpp"
#include "placement/rejection.hpp"

namespace fleet::placement {

class RejectionList {
 public:
  using ClusterNames = std::shared_ptr<const std::vector<std::string>>;

  RejectionList() = default;
  // `cluster_names`: what add()'s cluster indexes refer to (the engine's clusters, sorted by name).
  explicit RejectionList(ClusterNames cluster_names) : names_(std::move(cluster_names)) {}

  void reserve(std::size_t n) { in_order_ ? details_.reserve(n) : entries_.reserve(n); }
  std::size_t size() const { return in_order_ ? details_.size() : entries_.size(); }
  bool empty() const { return size() == 0; }
  Rejection operator[](std::size_t i) const;

  class const_iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Rejection;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Rejection;

    const_iterator() = default;
    const_iterator(const RejectionList* list, std::size_t i) : list_(list), i_(i) {}
    Rejection operator*() const { return (*list_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const const_iterator& other) const { return i_ == other.i_; }

   private:
    const RejectionList* list_ = nullptr;
    std::size_t i_ = 0;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

  // A cluster named by its text (a decision read back from JSON, a PickFixed name that is no cluster).
  void push_back(const Rejection& rejection);
  // The engine's cluster `cluster` (an index into the names table).
  void add(std::size_t cluster, RejectionCode code, std::string_view reason);
  // A reason of this list, for add_reason and add_not_selected (as its tail): interned once, used by many entries.
  std::uint32_t reason(RejectionCode code, std::string_view text) { return intern(code, text); }
  // The engine's cluster `cluster` with a reason from reason().
  void add_reason(std::size_t cluster, std::uint32_t reason);
  // NotSelected for cluster `cluster`: "fits <fit> replica(s), score <score>; <tail>" (`tail`: a reason()'s text).
  void add_not_selected(std::size_t cluster, int fit, long long score, std::uint32_t tail);

  // Sorted by cluster name; stable, as the engine's tie-break needs.
  void sort_by_cluster();

  bool operator==(const RejectionList& other) const;

 private:
  struct Entry {
    std::uint32_t cluster = 0;  // an index into names_, or with kForeign set into reasons_ (its text)
    std::uint32_t detail = 0;   // a reason id; or with kNotSelected set: fit and score, packed or in not_selected_
  };
  static constexpr std::uint32_t kForeign = 0x80000000U;
  static constexpr std::uint32_t kNotSelected = 0x80000000U;
  static constexpr std::uint32_t kSideTable = 0x40000000U;  // with kNotSelected: the rest indexes not_selected_
  static constexpr int kScoreBits = 20;                     // packed: fit in bits 20-29, score in bits 0-19
  static constexpr int kFitBits = 10;
  struct NotSelected {
    std::int32_t fit = 0;
    std::int32_t score = 0;
    std::uint32_t tail = 0;  // a reason id
  };
  // From entry `from` on, `skipped` clusters of the names table have no entry before it (in order only).
  struct Gap {
    std::uint32_t from = 0;
    std::uint32_t skipped = 0;
  };
  std::uint32_t intern(RejectionCode code, std::string_view text) { return reasons_.intern(code, text); }
  void append(std::uint32_t cluster, std::uint32_t detail);
  void leave_order();
  Entry entry(std::size_t i) const;
  std::string_view cluster_name(const Entry& entry) const;
  NotSelected not_selected(const Entry& entry) const;

  ClusterNames names_;
  // In order: the details, and the gaps in the clusters. Otherwise: entries_.
  bool in_order_ = true;
  std::vector<std::uint32_t> details_;
  std::vector<Gap> gaps_;
  std::uint32_t skipped_ = 0;       // in order: the clusters skipped so far
  std::uint32_t next_cluster_ = 0;  // in order: the cluster the next entry has if none is skipped
  std::vector<Entry> entries_;
  InternedReasons reasons_;
  std::uint32_t tail_ = 0;  // the tail of the packed NotSelected entries: the first one's
  bool has_tail_ = false;
  std::vector<NotSelected> not_selected_;
};

}  // namespace fleet::placement
