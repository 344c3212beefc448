#pragma once
// Model fit (issue #15 item 3, docs/placement.md "Model fit"): the GPU memory one replica of a model server needs,
// from the model's size and precision and a KV-cache budget, and which GPU shapes (a count of one model's GPUs on
// one node, tensor parallel) hold it. Pure arithmetic over plain structs; the rule is documented with a worked
// example in docs/placement.md and checked against published model sizes in tests/model_fit_test.cpp.
//
//   weights  = parameters × bytes per parameter (fp32 4, bf16/fp16 2, fp8/int8 1, int4/fp4 0.5)
//   KV cache = 2 (K and V) × layers × KV heads × head dim × KV bytes × context tokens × concurrent sequences
//   overhead = 5% of (weights + KV cache): activations, CUDA graphs and allocator fragmentation
//   total    = weights + KV cache + overhead                            (the memory per replica)
//   n GPUs of M bytes hold it when total ≤ n × 0.9 × M                 (vLLM's gpu_memory_utilization default)
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::placement {

enum class Precision { kFp32, kBf16, kFp16, kFp8, kInt8, kInt4, kFp4 };
std::string_view to_string(Precision precision);                  // "fp32", "bf16", …
std::optional<Precision> parse_precision(std::string_view text);  // case-insensitive
int bits_per_parameter(Precision precision);                      // 32, 16, 16, 8, 8, 4, 4

// Bounds on what a workload may say (untrusted input): the largest public models are about 2T parameters and
// 10M-token contexts (Llama 4 Scout); the architecture limits are far above any published config.
inline constexpr std::int64_t kMinModelParameters = 1'000'000;
inline constexpr std::int64_t kMaxModelParameters = 10'000'000'000'000;
inline constexpr std::int64_t kMaxContextTokens = 10'000'000;
inline constexpr int kMaxConcurrentSequences = 4096;
inline constexpr int kMaxLayers = 1024;
inline constexpr int kMaxKvHeads = 1024;
inline constexpr int kMaxHeadDim = 1024;

// What the KV cache depends on: per layer, K and V of kv_heads × head_dim values per token.
struct Architecture {
  int layers = 0;
  int kv_heads = 0;
  int head_dim = 0;
  bool operator==(const Architecture&) const = default;
};

// A model a workload asks to serve, instead of a GPU memory figure.
struct ModelSpec {
  std::int64_t parameters = 0;
  Precision precision = Precision::kBf16;
  // KV-cache values: absent means the serving engine's "auto" (vLLM): the activations' type, bf16 for every
  // quantised checkpoint, fp32 for an fp32 model.
  std::optional<Precision> kv_cache_precision;
  std::int64_t context_tokens = 0;  // 0: no KV-cache budget given
  int concurrent_sequences = 1;
  std::optional<Architecture> architecture;  // absent: the table of known architectures (known_architectures)
  bool operator==(const ModelSpec&) const = default;
};

// A published architecture (its Hugging Face config.json), matched by parameter count.
struct KnownArchitecture {
  std::string_view name;
  std::int64_t parameters = 0;
  Architecture architecture;
};
std::span<const KnownArchitecture> known_architectures();

// The architecture the KV cache is computed with. kTable: the parameter count is within 5% of a known model's;
// kNearest: it is not, and the known model nearest by ratio of parameter counts stands in (named, so people see
// the approximation); kGiven: the workload gave layers, KV heads and head dim.
struct ArchitectureChoice {
  enum class Source { kGiven, kTable, kNearest };
  Architecture architecture;
  std::string name;  // the known model's name; empty when given
  Source source = Source::kGiven;
};
ArchitectureChoice architecture_for(const ModelSpec& model);
std::string_view to_string(ArchitectureChoice::Source source);  // "given", "table", "nearest"

inline constexpr int kOverheadPercent = 5;
// The most memory one GPU has today (AMD MI355X and NVIDIA B300: 288 GB): a model that 16 of them cannot hold fits
// no node anywhere, and a workload asking for it is refused (422) rather than left Unplaceable for ever.
inline constexpr double kLargestGpuMemoryGiB = 288;
inline constexpr double kUsableFraction = 0.9;

struct MemoryEstimate {
  std::int64_t weights_bytes = 0;
  std::int64_t kv_cache_bytes = 0;
  std::int64_t overhead_bytes = 0;
  std::int64_t total_bytes = 0;  // per replica
  ArchitectureChoice architecture;
};
MemoryEstimate estimate_memory(const ModelSpec& model);

// What one GPU of `memory_bytes` offers a model server (kUsableFraction of it).
std::int64_t usable_bytes(std::int64_t gpu_memory_bytes);
// The least memory each of `gpus` GPUs must have for `total_bytes` to fit (rounded up to a whole MiB).
std::int64_t min_gpu_memory_for(std::int64_t total_bytes, int gpus);

// Tensor-parallel sizes a replica may take: powers of two (attention heads divide by them), on one node.
inline constexpr int kShapeCounts[] = {1, 2, 4, 8, 16};

// One GPU model as the fleet has it: its memory and the most GPUs of it on one node.
struct GpuShape {
  std::string model;
  std::int64_t memory_bytes = 0;
  int max_gpus_per_node = 0;
  bool operator==(const GpuShape&) const = default;
};

// The smallest count of kShapeCounts whose usable memory holds `total_bytes`, ignoring node sizes; 0 if even 16
// do not.
int gpus_needed(std::int64_t total_bytes, std::int64_t gpu_memory_bytes);

struct ShapeFit {
  GpuShape shape;
  int gpus_needed = 0;  // 0: more than 16
  bool fits = false;    // gpus_needed > 0 and a node has that many
  std::string reason;   // why not, when !fits
};
// Every shape, in the order given.
std::vector<ShapeFit> fit_shapes(std::int64_t total_bytes, const std::vector<GpuShape>& shapes);

// "H100 80GB HBM3 (80 GiB)" from "NVIDIA H100 80GB HBM3" and its memory: the vendor prefix dropped.
std::string shape_label(const GpuShape& shape);
// "2×H100 80GB HBM3 (80 GiB), 4×L40S (48 GiB); not L4 (24 GiB): needs 8 GPUs, nodes have at most 4", or
// "nothing fits" when no shape is given.
std::string describe_fits(const std::vector<ShapeFit>& fits);

// "70B", "8.03B", "1.5T", "350M" → parameters; nullopt when the text is not such a count.
std::optional<std::int64_t> parse_parameter_count(std::string_view text);
// Bytes as GiB with at most 2 decimals, for sentences: "130.39 GiB".
std::string gib_text(std::int64_t bytes);

}  // namespace fleet::placement
