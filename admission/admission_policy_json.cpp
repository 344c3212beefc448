#include "admission/admission_policy_json.hpp"

#include "gpu-probe/core/sku_table.hpp"
#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::admission {
namespace {

using nlohmann::json;

constexpr std::int64_t kMinReprobeSeconds = 3600;           // an hour: more often takes GPUs off work for nothing
constexpr std::int64_t kMaxReprobeSeconds = 366LL * 86400;  // a year
constexpr std::int64_t kMinTimeoutSeconds = 30;
constexpr std::int64_t kMaxTimeoutSeconds = 6 * 3600;

}  // namespace

json to_json(const AdmissionPolicy& p) {
  return {{"mode", p.mode},
          {"thresholds", p.thresholds},
          {"reprobeIntervalSeconds", p.reprobe_interval.count()},
          {"maxConcurrentProbes", {{"nodes", p.max_probing_nodes}, {"percent", p.max_probing_percent}}},
          {"probeTimeoutSeconds", p.probe_timeout.count()},
          {"busyRetrySeconds", p.busy_retry.count()}};
}

Result<AdmissionPolicy> admission_policy_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j,
                                            {"mode", "thresholds", "reprobeIntervalSeconds", "maxConcurrentProbes",
                                             "probeTimeoutSeconds", "busyRetrySeconds"},
                                            path);
      !s) {
    return s.error();
  }
  AdmissionPolicy p;
  auto mode = model::optional_string(j, "mode", path);
  if (!mode) return mode.error();
  if (*mode) {
    if (**mode != "quick" && **mode != "full") {
      return model::invalid_field(model::member_path(path, "mode"), "must be \"quick\" or \"full\"");
    }
    p.mode = **mode;
  }
  auto thresholds = model::optional_object(j, "thresholds", path);
  if (!thresholds) return thresholds.error();
  if (*thresholds) {
    const std::string f = model::member_path(path, "thresholds");
    const std::string text = (*thresholds)->dump();
    if (text.size() > kMaxThresholdsBytes) {
      return model::invalid_field(f, "at most " + std::to_string(kMaxThresholdsBytes / 1024) + " KiB of JSON");
    }
    gpuprobe::SkuTable table = gpuprobe::SkuTable::built_in();
    if (auto s = table.apply_overrides(text); !s) return model::invalid_field(f, s.error().message);
    p.thresholds = **thresholds;
  }
  auto reprobe = model::optional_integer(j, "reprobeIntervalSeconds", path, kMinReprobeSeconds, kMaxReprobeSeconds);
  if (!reprobe) return reprobe.error();
  if (*reprobe) p.reprobe_interval = std::chrono::seconds(**reprobe);
  auto timeout = model::optional_integer(j, "probeTimeoutSeconds", path, kMinTimeoutSeconds, kMaxTimeoutSeconds);
  if (!timeout) return timeout.error();
  if (*timeout) p.probe_timeout = std::chrono::seconds(**timeout);
  auto busy = model::optional_integer(j, "busyRetrySeconds", path, 60, 86400);
  if (!busy) return busy.error();
  if (*busy) p.busy_retry = std::chrono::seconds(**busy);
  auto cap = model::optional_object(j, "maxConcurrentProbes", path);
  if (!cap) return cap.error();
  if (*cap) {
    const std::string f = model::member_path(path, "maxConcurrentProbes");
    if (auto s = model::reject_unknown_fields(**cap, {"nodes", "percent"}, f); !s) return s.error();
    auto nodes = model::optional_integer(**cap, "nodes", f, 1, 1000);
    if (!nodes) return nodes.error();
    if (*nodes) p.max_probing_nodes = static_cast<int>(**nodes);
    auto percent = model::optional_integer(**cap, "percent", f, 0, 100);
    if (!percent) return percent.error();
    if (*percent) p.max_probing_percent = static_cast<int>(**percent);
  }
  return p;
}

}  // namespace fleet::admission
