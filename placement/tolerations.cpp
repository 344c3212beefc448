#include "placement/tolerations.hpp"

#include <algorithm>

#include "model/inventory.hpp"

namespace fleet::placement {

namespace {

bool is_admission_taint(const model::Taint& taint) {
  return taint.key == model::kTaintGpuUnverified || taint.key == model::kTaintGpuQuarantined;
}

bool tolerated_by_any(const std::vector<Toleration>& tolerations, const model::Taint& taint) {
  if (is_admission_taint(taint)) return false;
  return std::any_of(tolerations.begin(), tolerations.end(),
                     [&](const Toleration& toleration) { return tolerates(toleration, taint); });
}

}  // namespace

bool tolerates(const Toleration& toleration, const model::Taint& taint) {
  if (!toleration.effect.empty() && toleration.effect != taint.effect) return false;
  if (toleration.key.empty()) return toleration.op == Toleration::Op::kExists;
  if (toleration.key != taint.key) return false;
  return toleration.op == Toleration::Op::kExists || toleration.value == taint.value;
}

std::optional<model::Taint> first_untolerated(const std::vector<Toleration>& tolerations,
                                              const std::vector<model::Taint>& taints) {
  for (const model::Taint& taint : taints) {
    if (taint.effect == "PreferNoSchedule") continue;
    if (!tolerated_by_any(tolerations, taint)) return taint;
  }
  return std::nullopt;
}

int untolerated_preferences(const std::vector<Toleration>& tolerations, const std::vector<model::Taint>& taints) {
  return static_cast<int>(std::count_if(taints.begin(), taints.end(), [&](const model::Taint& taint) {
    return taint.effect == "PreferNoSchedule" && !tolerated_by_any(tolerations, taint);
  }));
}

}  // namespace fleet::placement
