#include "placement/model_fit.hpp"
#include "placement/units.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

namespace fleet::placement {
namespace {

constexpr std::int64_t kMiB = 1024 * 1024;
// Far above any estimate that passes the workload's bounds check; keeps the double → int64 conversion defined.
constexpr double kMaxBytes = 1e18;

constexpr std::pair<std::string_view, Precision> kPrecisions[] = {
    {"fp32", Precision::kFp32}, {"bf16", Precision::kBf16}, {"fp16", Precision::kFp16}, {"fp8", Precision::kFp8},
    {"int8", Precision::kInt8}, {"int4", Precision::kInt4}, {"fp4", Precision::kFp4}};

// Parameter counts and the KV-cache shape from each model's published config.json (num_hidden_layers,
// num_key_value_heads, head_dim or hidden_size / num_attention_heads). Sorted by parameter count.
constexpr KnownArchitecture kKnown[] = {
    {"Llama 3.2 1B", 1'240'000'000, {16, 8, 64}},       {"Llama 3.2 3B", 3'210'000'000, {28, 8, 128}},
    {"Mistral 7B", 7'240'000'000, {32, 8, 128}},        {"Qwen2.5 7B", 7'620'000'000, {28, 4, 128}},
    {"Llama 3.1 8B", 8'030'000'000, {32, 8, 128}},      {"Qwen2.5 14B", 14'700'000'000, {48, 8, 128}},
    {"Gemma 2 27B", 27'200'000'000, {46, 16, 128}},     {"Qwen2.5 32B", 32'800'000'000, {64, 8, 128}},
    {"Mixtral 8x7B", 46'700'000'000, {32, 8, 128}},     {"Llama 3.1 70B", 70'600'000'000, {80, 8, 128}},
    {"Qwen2.5 72B", 72'700'000'000, {80, 8, 128}},      {"Mixtral 8x22B", 141'000'000'000, {56, 8, 128}},
    {"Llama 3.1 405B", 405'900'000'000, {126, 8, 128}},
};

// Within this ratio of a known model's parameter count, the model is taken to be that one ("70B" is Llama 3.1
// 70B's 70.6B); further away it is an approximation.
constexpr double kTableTolerance = 0.05;

std::int64_t to_bytes(double bytes) {
  return static_cast<std::int64_t>(std::clamp(std::ceil(bytes), 0.0, kMaxBytes));
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::string_view to_string(Precision precision) {
  for (const auto& [name, value] : kPrecisions) {
    if (value == precision) return name;
  }
  return "?";
}

std::optional<Precision> parse_precision(std::string_view text) {
  const std::string wanted = lower(text);
  for (const auto& [name, value] : kPrecisions) {
    if (name == wanted) return value;
  }
  return std::nullopt;
}

int bits_per_parameter(Precision precision) {
  switch (precision) {
    case Precision::kFp32:
      return 32;
    case Precision::kBf16:
    case Precision::kFp16:
      return 16;
    case Precision::kFp8:
    case Precision::kInt8:
      return 8;
    case Precision::kInt4:
    case Precision::kFp4:
      return 4;
  }
  return 16;
}

std::span<const KnownArchitecture> known_architectures() {
  return kKnown;
}

ArchitectureChoice architecture_for(const ModelSpec& model) {
  if (model.architecture) return {*model.architecture, "", ArchitectureChoice::Source::kGiven};
  const double wanted = static_cast<double>(std::max<std::int64_t>(model.parameters, 1));
  const KnownArchitecture* best = &kKnown[0];
  double best_distance = 1e300;
  for (const KnownArchitecture& known : kKnown) {
    const double distance = std::fabs(std::log(wanted / static_cast<double>(known.parameters)));
    if (distance < best_distance) {  // strict: a tie keeps the smaller model
      best = &known;
      best_distance = distance;
    }
  }
  const double ratio = wanted / static_cast<double>(best->parameters);
  const bool close = std::fabs(ratio - 1.0) <= kTableTolerance;
  return {best->architecture, std::string(best->name),
          close ? ArchitectureChoice::Source::kTable : ArchitectureChoice::Source::kNearest};
}

std::string_view to_string(ArchitectureChoice::Source source) {
  switch (source) {
    case ArchitectureChoice::Source::kGiven:
      return "given";
    case ArchitectureChoice::Source::kTable:
      return "table";
    case ArchitectureChoice::Source::kNearest:
      return "nearest";
  }
  return "?";
}

MemoryEstimate estimate_memory(const ModelSpec& model) {
  MemoryEstimate out;
  out.architecture = architecture_for(model);
  const double weights = static_cast<double>(model.parameters) * bits_per_parameter(model.precision) / 8.0;
  const Precision kv_precision =
      model.kv_cache_precision.value_or(model.precision == Precision::kFp32 ? Precision::kFp32 : Precision::kBf16);
  const Architecture& a = out.architecture.architecture;
  const double kv_per_token = 2.0 * a.layers * a.kv_heads * a.head_dim * bits_per_parameter(kv_precision) / 8.0;
  const double kv = kv_per_token * static_cast<double>(model.context_tokens) * model.concurrent_sequences;
  out.weights_bytes = to_bytes(weights);
  out.kv_cache_bytes = to_bytes(kv);
  out.overhead_bytes = to_bytes((weights + kv) * kOverheadPercent / 100.0);
  out.total_bytes = to_bytes(static_cast<double>(out.weights_bytes) + static_cast<double>(out.kv_cache_bytes) +
                             static_cast<double>(out.overhead_bytes));
  return out;
}

std::int64_t usable_bytes(std::int64_t gpu_memory_bytes) {
  return static_cast<std::int64_t>(std::floor(static_cast<double>(gpu_memory_bytes) * kUsableFraction));
}

std::int64_t min_gpu_memory_for(std::int64_t total_bytes, int gpus) {
  const double per_gpu = static_cast<double>(total_bytes) / (std::max(gpus, 1) * kUsableFraction);
  const double mib = std::ceil(per_gpu / static_cast<double>(kMiB));
  return static_cast<std::int64_t>(std::min(mib * static_cast<double>(kMiB), kMaxBytes));
}

int gpus_needed(std::int64_t total_bytes, std::int64_t gpu_memory_bytes) {
  const std::int64_t usable = usable_bytes(gpu_memory_bytes);
  for (const int n : kShapeCounts) {
    if (usable > 0 && static_cast<double>(usable) * n >= static_cast<double>(total_bytes)) return n;
  }
  return 0;
}

std::vector<ShapeFit> fit_shapes(std::int64_t total_bytes, const std::vector<GpuShape>& shapes) {
  std::vector<ShapeFit> out;
  out.reserve(shapes.size());
  for (const GpuShape& shape : shapes) {
    ShapeFit fit{shape, gpus_needed(total_bytes, shape.memory_bytes), false, ""};
    if (fit.gpus_needed == 0) {
      fit.reason = "needs more than 16 GPUs";
    } else if (fit.gpus_needed > shape.max_gpus_per_node) {
      fit.reason = "needs " + std::to_string(fit.gpus_needed) + " GPUs, nodes have at most " +
                   std::to_string(shape.max_gpus_per_node);
    } else {
      fit.fits = true;
    }
    out.push_back(std::move(fit));
  }
  return out;
}

std::string shape_label(const GpuShape& shape) {
  std::string name = shape.model;
  constexpr std::string_view kVendor = "NVIDIA ";
  if (name.starts_with(kVendor) && name.size() > kVendor.size()) name.erase(0, kVendor.size());
  const double gib = static_cast<double>(shape.memory_bytes) / kBytesPerGiB;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.0f", gib);
  return name + " (" + buffer + " GiB)";
}

std::string describe_fits(const std::vector<ShapeFit>& fits) {
  std::string yes;
  std::string no;
  for (const ShapeFit& fit : fits) {
    if (fit.fits) {
      yes += (yes.empty() ? "" : ", ") + std::to_string(fit.gpus_needed) + "×" + shape_label(fit.shape);
    } else {
      no += (no.empty() ? "not " : "; not ") + shape_label(fit.shape) + ": " + fit.reason;
    }
  }
  if (yes.empty() && no.empty()) return "nothing fits: the fleet has no GPUs";
  if (yes.empty()) return "nothing fits; " + no;
  return no.empty() ? yes : yes + "; " + no;
}

std::optional<std::int64_t> parse_parameter_count(std::string_view text) {
  if (text.size() < 2 || text.size() > 16) return std::nullopt;
  double scale = 0;
  switch (std::tolower(static_cast<unsigned char>(text.back()))) {
    case 'm':
      scale = 1e6;
      break;
    case 'b':
      scale = 1e9;
      break;
    case 't':
      scale = 1e12;
      break;
    default:
      return std::nullopt;
  }
  const std::string_view number = text.substr(0, text.size() - 1);
  if (!std::all_of(number.begin(), number.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; }))
    return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value)) return std::nullopt;
  const double parameters = std::round(value * scale);
  if (parameters < 1 || parameters > 1e15) return std::nullopt;
  return static_cast<std::int64_t>(parameters);
}

std::string gib_text(std::int64_t bytes) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.2f", static_cast<double>(bytes) / kBytesPerGiB);
  std::string text = buffer;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text + " GiB";
}

}  // namespace fleet::placement
