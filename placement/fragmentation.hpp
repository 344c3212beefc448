#pragma once
// GPU fragmentation of a node (fragmentation-aware best fit, after Alibaba's FGD): what the score plugin, node
// assignment and the ledger's per-model aggregate all measure.
#include <array>
#include <cstddef>

#include "model/inventory.hpp"

namespace fleet::placement {

// Fragmentation of a node with `free` GPUs: the free GPUs that the common shapes (1, 2, 4, 8 GPUs per replica,
// equally likely) could no longer use. F(8) = 0, F(7) = 3.5 / 4 ... see the definition in fragmentation.cpp.
double node_fragmentation(int free);

// How much a replica of `gpus` taken from a node with `free` changes its fragmentation (lower is better).
double fragmentation_delta(int free, int gpus);

// For each replica size g (index), the best (lowest) fragmentation_delta(f, g) + 0.001 × f over the free-block
// sizes f that some node has (nodes_by_free[f] > 0, f >= g): the block size breaks ties, the tightest first.
// Infinity where no node has a block of g. Worked out with the aggregate, so a score is one lookup per model.
inline constexpr std::size_t kBlockSizes = model::kMaxGpusPerNode + 1;
using BestFragmentation = std::array<double, kBlockSizes>;
BestFragmentation best_fragmentation(const int* nodes_by_free, std::size_t sizes);

}  // namespace fleet::placement
