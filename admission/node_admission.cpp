#include "admission/node_admission.hpp"

namespace fleet::admission {

std::string_view to_string(Trigger trigger) {
  switch (trigger) {
    case Trigger::kJoin:
      return "join";
    case Trigger::kUpgrade:
      return "upgrade";
    case Trigger::kSchedule:
      return "schedule";
    case Trigger::kHealth:
      return "health";
    case Trigger::kManual:
      return "manual";
    case Trigger::kRepair:
      return "repair";
  }
  return "join";
}

std::optional<Trigger> parse_trigger(std::string_view text) {
  for (Trigger t :
       {Trigger::kJoin, Trigger::kUpgrade, Trigger::kSchedule, Trigger::kHealth, Trigger::kManual, Trigger::kRepair}) {
    if (to_string(t) == text) return t;
  }
  return std::nullopt;
}

std::vector<model::Taint> taints_for(const NodeAdmission& node) {
  const model::Taint unverified{std::string(model::kTaintGpuUnverified), "", "NoSchedule"};
  switch (node.state) {
    case model::Admission::kAdmitted:
      return {};
    case model::Admission::kPendingProbe:
    case model::Admission::kProbing:
      return {unverified};
    case model::Admission::kQuarantined:
      return {unverified, {std::string(model::kTaintGpuQuarantined), node.quarantine_check, "NoSchedule"}};
  }
  return {unverified};
}

}  // namespace fleet::admission
