#include <catch2/catch.hpp>

#include "placement/interned_reasons.hpp"
#include "placement/rejection_list.hpp"

using namespace fleet::placement;

namespace {

RejectionList::ClusterNames names(std::vector<std::string> sorted) {
  return std::make_shared<const std::vector<std::string>>(std::move(sorted));
}

}  // namespace

TEST_CASE("rejection list: reads back what was added, NotSelected built from its numbers and the shared tail",
          "[placement][rejection]") {
  RejectionList list(names({"a", "b", "c"}));
  list.add(2, RejectionCode::kTaint, "taint gpu=reserved:NoSchedule not tolerated");
  const std::uint32_t tail =
      list.reason(RejectionCode::kNotSelected, "PickN 1 took clusters that fit more replicas or scored higher");
  list.add_not_selected(0, 1, 57, tail);
  list.add_not_selected(1, 3, 12, tail);
  REQUIRE(list.size() == 3);
  CHECK(list[0] == Rejection{"c", RejectionCode::kTaint, "taint gpu=reserved:NoSchedule not tolerated"});
  CHECK(list[1].reason == "fits 1 replica, score 57; PickN 1 took clusters that fit more replicas or scored higher");
  CHECK(list[2].reason == "fits 3 replicas, score 12; PickN 1 took clusters that fit more replicas or scored higher");
  CHECK(list[2].code == RejectionCode::kNotSelected);

  list.sort_by_cluster();
  std::vector<std::string> order;
  for (const Rejection& r : list) order.push_back(r.cluster);
  CHECK(order == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("rejection list: names outside the table sort among the others by name", "[placement][rejection]") {
  RejectionList list(names({"b", "d"}));
  list.add(1, RejectionCode::kClusterState, "cluster is unreachable (missed heartbeats)");
  list.push_back({"e", RejectionCode::kNoSuchCluster, "no such cluster"});
  list.add(0, RejectionCode::kClusterState, "cluster is unreachable (missed heartbeats)");
  list.push_back({"a", RejectionCode::kNoSuchCluster, "no such cluster"});
  list.sort_by_cluster();
  std::vector<std::string> order;
  for (const Rejection& r : list) order.push_back(r.cluster + ":" + std::string(to_string(r.code)));
  CHECK(order == std::vector<std::string>{"a:NoSuchCluster", "b:ClusterState", "d:ClusterState", "e:NoSuchCluster"});
}

TEST_CASE("rejection list: equal when they read the same, however stored", "[placement][rejection]") {
  RejectionList compact(names({"a", "b"}));
  compact.add(0, RejectionCode::kGpuModel, "no allowed GPU model: needs NVIDIA H100, has NVIDIA L4");
  compact.add_not_selected(
      1, 2, 40,
      compact.reason(RejectionCode::kNotSelected, "PickN 1 took clusters that fit more replicas or scored higher"));
  RejectionList spelled_out;
  spelled_out.push_back({"a", RejectionCode::kGpuModel, "no allowed GPU model: needs NVIDIA H100, has NVIDIA L4"});
  spelled_out.push_back({"b", RejectionCode::kNotSelected,
                         "fits 2 replicas, score 40; PickN 1 took clusters that fit more replicas or scored higher"});
  CHECK(compact == spelled_out);
  spelled_out.push_back({"c", RejectionCode::kNoSuchCluster, "no such cluster"});
  CHECK_FALSE(compact == spelled_out);
  RejectionList copy = compact;  // a copy reads the same and keeps its own texts
  CHECK(copy == compact);
  CHECK(RejectionList() == RejectionList(names({"a"})));
}

TEST_CASE("rejection list: NotSelected numbers too large to pack, and a second tail, read back exactly",
          "[placement][rejection]") {
  RejectionList list(names({"a", "b", "c", "d", "e"}));
  const std::uint32_t tail = list.reason(RejectionCode::kNotSelected, "PickN 1 took others");
  const std::uint32_t other = list.reason(RejectionCode::kNotSelected, "another tail");
  list.add_not_selected(0, 1023, (1 << 20) - 1, tail);  // the largest that pack
  list.add_not_selected(1, 1024, 5, tail);              // fit too large
  list.add_not_selected(2, 2, 1 << 20, tail);           // score too large
  list.add_not_selected(3, 2, -7, tail);                // a negative score
  list.add_not_selected(4, 2, 5, other);                // not the list's first tail
  REQUIRE(list.size() == 5);
  CHECK(list[0].reason == "fits 1023 replicas, score 1048575; PickN 1 took others");
  CHECK(list[1].reason == "fits 1024 replicas, score 5; PickN 1 took others");
  CHECK(list[2].reason == "fits 2 replicas, score 1048576; PickN 1 took others");
  CHECK(list[3].reason == "fits 2 replicas, score -7; PickN 1 took others");
  CHECK(list[4] == Rejection{"e", RejectionCode::kNotSelected, "fits 2 replicas, score 5; another tail"});
  // The same text under two codes is two reasons.
  list.add(0, RejectionCode::kTaint, "same words");
  list.add(1, RejectionCode::kAffinity, "same words");
  CHECK(list[5].code == RejectionCode::kTaint);
  CHECK(list[6].code == RejectionCode::kAffinity);
}

TEST_CASE("interned reasons: one id per code and text, the same before and after the list grows an index",
          "[placement][rejection]") {
  InternedReasons reasons;
  std::vector<std::uint32_t> ids;
  // Twenty texts, each under two codes: past the first eight the reasons are found by the index.
  for (int i = 0; i < 20; ++i) {
    const std::string text = "reason " + std::to_string(i);
    ids.push_back(reasons.intern(RejectionCode::kTaint, text));
    ids.push_back(reasons.intern(RejectionCode::kAffinity, text));
  }
  REQUIRE(reasons.size() == 40);
  for (int i = 0; i < 20; ++i) {
    const std::string text = "reason " + std::to_string(i);
    CHECK(reasons.intern(RejectionCode::kTaint, text) == ids[static_cast<std::size_t>(2 * i)]);
    CHECK(reasons.intern(RejectionCode::kAffinity, text) == ids[static_cast<std::size_t>(2 * i + 1)]);
    CHECK(reasons.code(ids[static_cast<std::size_t>(2 * i + 1)]) == RejectionCode::kAffinity);
    CHECK(reasons.text(ids[static_cast<std::size_t>(2 * i)]) == text);
  }
  // A third code for an early text joins its chain.
  const std::uint32_t third = reasons.intern(RejectionCode::kSpread, "reason 0");
  CHECK(third == 40);
  CHECK(reasons.intern(RejectionCode::kSpread, "reason 0") == third);
  CHECK(reasons.intern(RejectionCode::kTaint, "reason 0") == ids[0]);
}

TEST_CASE("rejection list: clusters added in order with some skipped read back by name, also after a late add",
          "[placement][rejection]") {
  RejectionList list(names({"a", "b", "c", "d", "e", "f", "g", "h"}));
  const std::uint32_t tail = list.reason(RejectionCode::kNotSelected, "PickN 2 took others");
  // As the engine writes them: every cluster but the chosen "c", "f" and "g", in order.
  list.add(0, RejectionCode::kTaint, "taint");
  list.add_not_selected(1, 1, 10, tail);
  list.add_not_selected(3, 2, 20, tail);
  list.add(4, RejectionCode::kTaint, "taint");
  list.add_not_selected(7, 3, 30, tail);
  const auto read = [](const RejectionList& l) {
    std::vector<std::string> out;
    for (const Rejection& r : l) out.push_back(r.cluster + ":" + r.reason);
    return out;
  };
  const std::vector<std::string> expected{"a:taint", "b:fits 1 replica, score 10; PickN 2 took others",
                                          "d:fits 2 replicas, score 20; PickN 2 took others", "e:taint",
                                          "h:fits 3 replicas, score 30; PickN 2 took others"};
  CHECK(read(list) == expected);
  CHECK(list[4].cluster == "h");
  list.sort_by_cluster();
  CHECK(read(list) == expected);
  // A cluster that comes after its turn (and a name outside the table) still lands in name order.
  list.add(2, RejectionCode::kAffinity, "affinity");
  list.push_back({"ca", RejectionCode::kNoSuchCluster, "no such cluster"});
  list.sort_by_cluster();
  std::vector<std::string> names_read;
  for (const Rejection& r : list) names_read.push_back(r.cluster);
  CHECK(names_read == std::vector<std::string>{"a", "b", "c", "ca", "d", "e", "h"});
}
