#pragma once
// A secret given as a command-line argument is readable by every local user (ps, /proc/PID/cmdline) and lands in
// shell history (issue #10). The programs still accept one (scripts and tests use it), but say so, and name the
// file or environment variable that keeps it private. An option filled from its environment variable is quiet.
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

#include "common/log.hpp"

namespace fleet::agent {

inline void warn_if_secret_on_command_line(const CLI::Option& option, const std::string& value,
                                           const char* environment_variable, const std::string& alternatives) {
  if (option.count() == 0 || value.empty()) return;
  const char* from_environment = std::getenv(environment_variable);
  if (from_environment != nullptr && value == from_environment) return;
  log::warn("a secret was given on the command line, where every local user can read it; use " + alternatives,
            {{"flag", option.get_name()}});
}

}  // namespace fleet::agent
