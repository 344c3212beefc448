#include "rollout/rollback.hpp"

namespace fleet::rollout {

std::map<std::string, RollbackPin> rollback_pins(const RunState& earlier) {
  std::map<std::string, RollbackPin> pins;
  for (const MemberState& m : earlier.members) {
    // The steps that ran: all before the current one; the current one too when it failed (partly done).
    std::size_t ran = std::min(m.step, m.steps.size());
    if (m.phase == MemberPhase::kFailed && ran < m.steps.size()) ++ran;
    for (std::size_t k = 0; k < ran; ++k) {
      const Step& s = m.steps[k];
      if (s.kind != StepKind::kNodePool || s.node_image.empty() || s.from_node_image.empty()) continue;
      // A blue-green step that did not finish changed nothing: a failed Replace deletes its new pool again.
      if (k == m.step && !s.replacement.empty()) continue;
      RollbackPin pin{s.from_node_image, s.node_image};
      if (auto earlier_pin = pins.find(m.cluster + "/" + s.pool); earlier_pin != pins.end()) {
        pin.from = earlier_pin->second.from;  // `from` stays the image from before the run
        if (!s.replacement.empty()) pins.erase(earlier_pin);
      }
      // A blue-green step's pool goes on under its new name.
      pins[m.cluster + "/" + (s.replacement.empty() ? s.pool : s.replacement)] = pin;
    }
  }
  return pins;
}

}  // namespace fleet::rollout
