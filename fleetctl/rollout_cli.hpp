#pragma once
// The staged-upgrade commands' flags (issue #12), declared on the command tree app.cpp builds, so app.cpp adds
// them with one call.
#include <functional>

#include "fleetctl/session.hpp"

namespace CLI {
class App;
}

namespace fleet::ctl {

// The parents the commands hang under: `rollout …` on `app`, and `get rollouts|strategies`, `describe rollout`,
// `create strategy`, `delete strategy` under the existing verbs.
struct RolloutCliParents {
  CLI::App* app;
  CLI::App* get;
  CLI::App* describe;
  CLI::App* create;
  CLI::App* del;
};

// `command(cmd, fn)` registers what runs when `cmd` was parsed; the flags' storage lives as long as those fns.
void add_rollout_commands(const RolloutCliParents& parents,
                          const std::function<void(CLI::App*, std::function<int(Session&)>)>& command);

}  // namespace fleet::ctl
