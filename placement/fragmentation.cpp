#include "placement/fragmentation.hpp"

#include <algorithm>
#include <limits>

namespace fleet::placement {

namespace {

constexpr std::array<int, 4> kCommonShapes = {1, 2, 4, 8};

// fragmentation_delta(free, gpus) for every block size, worked out once.
using DeltaTable = std::array<std::array<double, kBlockSizes>, kBlockSizes>;
const DeltaTable& delta_table() {
  static const DeltaTable table = [] {
    DeltaTable t{};
    for (std::size_t free = 0; free < kBlockSizes; ++free) {
      for (std::size_t gpus = 0; gpus <= free; ++gpus) {
        t[free][gpus] = fragmentation_delta(static_cast<int>(free), static_cast<int>(gpus));
      }
    }
    return t;
  }();
  return table;
}

}  // namespace

// For each common shape s, the GPUs left over once the node holds as many s-blocks as fit (free mod s), averaged
// over the shapes. A full or empty 8-GPU node scores 0; a node with 7 free scores (0 + 1 + 3 + 7) / 4.
double node_fragmentation(int free) {
  double sum = 0;
  for (const int shape : kCommonShapes) sum += free % shape;
  return sum / static_cast<double>(kCommonShapes.size());
}

double fragmentation_delta(int free, int gpus) {
  return node_fragmentation(free - gpus) - node_fragmentation(free);
}

BestFragmentation best_fragmentation(const int* nodes_by_free, std::size_t sizes) {
  BestFragmentation best;
  best.fill(std::numeric_limits<double>::infinity());
  const DeltaTable& deltas = delta_table();
  for (std::size_t free = 1; free < std::min(sizes, kBlockSizes); ++free) {
    if (nodes_by_free[free] == 0) continue;
    for (std::size_t gpus = 1; gpus <= free; ++gpus) {
      best[gpus] = std::min(best[gpus], deltas[free][gpus] + 0.001 * static_cast<double>(free));
    }
  }
  return best;
}

}  // namespace fleet::placement
