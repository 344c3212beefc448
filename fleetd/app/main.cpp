// fleetd: reads the command line and hands over to the daemon or the token commands. Nothing else happens here.
#include "fleetd/app/command_line.hpp"
#include "fleetd/app/daemon.hpp"
#include "fleetd/app/token_cli.hpp"

#ifndef FLEET_VERSION
#define FLEET_VERSION "0.0.0"
#endif
#ifndef FLEET_GIT_COMMIT
#define FLEET_GIT_COMMIT "unknown"
#endif
#ifndef FLEET_BUILD_DATE
#define FLEET_BUILD_DATE "unknown"
#endif

int main(int argc, char** argv) {
  using fleet::CommandLine;
  const fleet::BuildInfo build{FLEET_VERSION, FLEET_GIT_COMMIT, FLEET_BUILD_DATE};
  CommandLine cmd = fleet::parse_command_line(argc, argv, build);
  switch (cmd.action) {
    case CommandLine::Action::kExit:
      return cmd.exit_code;
    case CommandLine::Action::kTokenCreate:
      return fleet::run_token_create(cmd.role, cmd.description, cmd.token);
    case CommandLine::Action::kTokenRevoke:
      return fleet::run_token_revoke(cmd.revoke_id, cmd.token);
    case CommandLine::Action::kServe:
      break;
  }
  return fleet::serve(cmd.serve, build);
}
