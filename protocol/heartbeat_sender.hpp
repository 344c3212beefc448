#pragma once
// The agent's side of the heartbeat: numbers heartbeats and chooses between a full inventory and a delta.
#include <cstdint>
#include <optional>
#include <string>

#include "model/inventory.hpp"
#include "protocol/heartbeat.hpp"

namespace fleet::protocol {

// Numbers heartbeats and decides full vs delta. Pure: the I/O shell calls next() with the current inventory,
// sends the envelope, and calls request_full() when fleetd answers "resync" or when it cannot tell whether a
// heartbeat arrived (the next delta would otherwise be built on a base fleetd may lack; the gap check would catch
// that too, one round trip later).
class HeartbeatSender {
 public:
  explicit HeartbeatSender(std::string agent_version);
  // By value: a caller done with its inventory moves it in, and a heartbeat copies no inventory at all.
  HeartbeatEnvelope next(model::ClusterInventory current);
  void request_full() { need_full_ = true; }
  // fleetd answered the last envelope with an error, so it certainly did not apply it (it answers 2xx only after
  // committing): forget it, so that the next one builds on what fleetd has instead of forcing a resync.
  void not_applied();
  std::uint64_t last_sequence() const { return sequence_; }

 private:
  std::string agent_version_;
  std::uint64_t sequence_ = 0;
  bool need_full_ = true;
  model::ClusterInventory last_sent_;
  struct Previous {
    std::uint64_t sequence = 0;
    bool need_full = true;
    model::ClusterInventory last_sent;
  };
  std::optional<Previous> previous_;  // the state before the last next(), for not_applied()
};

}  // namespace fleet::protocol
