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
      auto [pin, first] = pins.try_emplace(m.cluster + "/" + s.pool, RollbackPin{s.from_node_image, s.node_image});
      if (!first) pin->second.to = s.node_image;  // `from` stays the image from before the run
    }
  }
  return pins;
}

}  // namespace fleet::rollout
