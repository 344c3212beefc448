#pragma once
// The command line: CLI11 definitions of every command and flag, dispatch to the command functions, and the one
// place where CLI11 parse errors become exit code 2 and stray exceptions a message instead of a crash.
#include <string>
#include <vector>

#include "fleetctl/session.hpp"

namespace fleet::ctl {

// args excludes the program name. Returns the process exit code.
int run_fleetctl(const std::vector<std::string>& args, Io io, const Environment& env);

}  // namespace fleet::ctl
