#include "protocol/heartbeat_sender.hpp"

#include <utility>

namespace fleet::protocol {

HeartbeatSender::HeartbeatSender(std::string agent_version) : agent_version_(std::move(agent_version)) {}

void HeartbeatSender::not_applied() {
  if (!previous_) return;
  sequence_ = previous_->sequence;
  need_full_ = previous_->need_full;
  last_sent_ = std::move(previous_->last_sent);
  previous_.reset();
}

HeartbeatEnvelope HeartbeatSender::next(model::ClusterInventory current) {
  HeartbeatEnvelope e;
  e.agent_version = agent_version_;
  // The base moves aside (not copied) so that not_applied() can put it back.
  previous_ = Previous{sequence_, need_full_, std::move(last_sent_)};
  e.sequence = ++sequence_;
  model::canonicalize(current);
  if (need_full_) {
    e.full = true;
    e.inventory = current;
    need_full_ = false;
  } else {
    e.delta = diff_inventory(previous_->last_sent, current);
  }
  last_sent_ = std::move(current);
  return e;
}

}  // namespace fleet::protocol
