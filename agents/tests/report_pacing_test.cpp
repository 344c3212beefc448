// When an agent sends a running command's report (agents/report_pacing.hpp).
#include <catch2/catch.hpp>

#include "agents/report_pacing.hpp"

namespace fleet::agent {
namespace {

using namespace std::chrono_literals;
using Time = std::chrono::steady_clock::time_point;
const Time kReceived = Time(1000s);

protocol::CommandStatus pool_step(protocol::CommandState state = protocol::CommandState::kRunning) {
  protocol::CommandStatus s;
  s.id = "ro.1.0.1.1";
  s.kind = "upgrade_node_pool";
  s.state = state;
  s.nodes_total = 2;
  s.details = {{"gpu-0", "upgraded"}, {"gpu-1", "probing"}};
  return s;
}

}  // namespace

TEST_CASE("report pacing: progress waits for the interval since fleetd last heard of the command", "[agent][pacing]") {
  // Just received: the first progress waits a whole interval, so a command that finishes within it reports once.
  CHECK(report_due(pool_step(), kReceived, kReceived + 10ms, 5000ms) == kReceived + 5000ms);
  // Past the interval: at once.
  CHECK(report_due(pool_step(), kReceived, kReceived + 7500ms, 5000ms) == kReceived + 7500ms);
  // After a report: an interval after it.
  CHECK(report_due(pool_step(), kReceived + 7500ms, kReceived + 7600ms, 5000ms) == kReceived + 12500ms);
  // No interval: every report at once, as before pacing.
  CHECK(report_due(pool_step(), kReceived + 7500ms, kReceived + 7600ms, 0ms) == kReceived + 7600ms);
}

TEST_CASE("report pacing: an outcome goes at once", "[agent][pacing]") {
  const Time now = kReceived + 10ms;
  CHECK(report_due(pool_step(protocol::CommandState::kSucceeded), kReceived, now, 5000ms) == now);
  CHECK(report_due(pool_step(protocol::CommandState::kFailed), kReceived + 5ms, now, 5000ms) == now);
}

}  // namespace fleet::agent
