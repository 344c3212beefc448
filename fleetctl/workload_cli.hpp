#pragma once
// The workload commands' flags (issue #14), declared on the command tree app.cpp builds, so app.cpp adds them with
// one call: `apply -f FILE` on the app, `get workloads`, `describe workload`, `delete workload` under the verbs.
#include <functional>

#include "fleetctl/session.hpp"

namespace CLI {
class App;
}

namespace fleet::ctl {

struct WorkloadCliParents {
  CLI::App* app;
  CLI::App* get;
  CLI::App* describe;
  CLI::App* del;
};

// `command(cmd, fn)` registers what runs when `cmd` was parsed; the flags' storage lives as long as those fns.
void add_workload_commands(const WorkloadCliParents& parents,
                           const std::function<void(CLI::App*, std::function<int(Session&)>)>& command);

}  // namespace fleet::ctl
