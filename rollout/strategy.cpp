#include "rollout/strategy.hpp"

namespace fleet::rollout {

const FailurePolicy& Strategy::policy_of(const StageSpec& stage) const {
  return stage.failure_policy ? *stage.failure_policy : failure_policy;
}

const FailurePolicy& Strategy::policy_of(const StageSpec& stage, const GroupSpec& group) const {
  return group.failure_policy ? *group.failure_policy : policy_of(stage);
}

std::optional<std::size_t> Strategy::window_for(const model::Labels& labels) const {
  for (std::size_t i = 0; i < maintenance_windows.size(); ++i) {
    if (model::matches(maintenance_windows[i].selector, labels)) return i;
  }
  return std::nullopt;
}

std::vector<GateRef> all_gates(const Strategy& strategy) {
  std::vector<GateRef> out;
  for (std::size_t s = 0; s < strategy.stages.size(); ++s) {
    const StageSpec& stage = strategy.stages[s];
    for (const Gate& g : stage.before_gates) out.push_back(GateRef{&g, s, std::nullopt, true});
    for (std::size_t k = 0; k < stage.groups.size(); ++k) {
      for (const Gate& g : stage.groups[k].before_gates) out.push_back(GateRef{&g, s, k, true});
      for (const Gate& g : stage.groups[k].after_gates) out.push_back(GateRef{&g, s, k, false});
    }
    for (const Gate& g : stage.after_gates) out.push_back(GateRef{&g, s, std::nullopt, false});
  }
  return out;
}

const Gate* find_gate(const Strategy& strategy, std::string_view name) {
  for (const GateRef& ref : all_gates(strategy)) {
    if (ref.gate->name == name) return ref.gate;
  }
  return nullptr;
}

std::string_view to_string(GateType t) {
  switch (t) {
    case GateType::kApproval:
      return "Approval";
    case GateType::kWait:
      return "Wait";
    case GateType::kScheduledStart:
      return "ScheduledStart";
    case GateType::kHealthCheck:
      return "HealthCheck";
  }
  return "Unknown";
}

std::string_view to_string(OnFailure f) {
  switch (f) {
    case OnFailure::kPause:
      return "Pause";
    case OnFailure::kContinue:
      return "Continue";
  }
  return "Unknown";
}

}  // namespace fleet::rollout
