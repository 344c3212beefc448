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
  const std::uint32_t tail = list.text("PickN 1 took clusters that fit more replicas or scored higher");
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
  compact.add_not_selected(1, 2, 40, compact.text("PickN 1 took clusters that fit more replicas or scored higher"));
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
