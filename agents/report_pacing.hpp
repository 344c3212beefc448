#pragma once
// When an agent sends a running command's report. A report carries the command's whole status, so a later one
// replaces an unsent earlier one and nothing is lost by waiting; what waiting saves is fleetd's work, and the
// agent's: it sends reports one at a time, and a progress report that queues at fleetd holds up the outcome behind
// it. A node pool upgrade changes its status at every cordon, drain, upgrade, probe and uncordon of every node, and
// a staged run with hundreds of members in flight sends those in bursts, queued beside the reports and claims its
// next steps wait for (issue #12, benchmark (b): 4.2 reports a command with every change reported within a
// second, against ~1.3 now).
//   - A command that finished (succeeded or failed) is reported at once.
//   - Any other report waits until `interval` after the last report of the command, or after the agent received
//     it when none was sent: a command that finishes within the interval is reported once, with its outcome.
// Lease renewals are not paced: when one falls due, a waiting report goes at once (agent_runner.cpp), so a lease
// shorter than the interval is still kept.
#include <chrono>

#include "protocol/command_status.hpp"

namespace fleet::agent {

// When a report of `status` is due: `now` for an outcome, else an interval after `last_report` (the last report
// fleetd got of the command, or when the agent received it), and never before `now`.
std::chrono::steady_clock::time_point report_due(const protocol::CommandStatus& status,
                                                 std::chrono::steady_clock::time_point last_report,
                                                 std::chrono::steady_clock::time_point now,
                                                 std::chrono::milliseconds interval);

}  // namespace fleet::agent
