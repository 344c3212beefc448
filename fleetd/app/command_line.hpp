#pragma once
// fleetd's command line: `fleetd [serve flags]` and `fleetd token create|revoke`. Serve settings also come from
// FLEETD_* and a JSON config file (app/config.hpp); a flag given on the command line wins.
#include <string>

#include "fleetd/app/config.hpp"
#include "fleetd/app/daemon.hpp"
#include "fleetd/app/token_cli.hpp"

namespace fleet {

struct CommandLine {
  enum class Action { kServe, kTokenCreate, kTokenRevoke, kExit };
  Action action = Action::kServe;
  int exit_code = 0;  // for kExit (--help, --version: 0; a usage error: 2)
  ServeConfig serve;  // resolved from flags, environment and file
  TokenCliOptions token;
  std::string role, description, revoke_id;
};

// Parses argv; usage errors and --help/--version are printed here and come back as kExit.
CommandLine parse_command_line(int argc, char** argv, const BuildInfo& build);

}  // namespace fleet
