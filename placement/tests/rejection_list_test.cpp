#include <catch2/catch.hpp>

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
