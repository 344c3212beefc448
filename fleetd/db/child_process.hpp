#pragma once
// Child processes for the embedded PostgreSQL (initdb, pg_ctl, runuser): argv only (no shell), stdin from
// /dev/null, stdout+stderr captured, cwd "/" (the server user may not be able to read ours), every other descriptor
// closed so the server never inherits fleetd's sockets.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace fleet::pg {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
};

std::string describe_argv(const std::vector<std::string>& argv);
// kUnavailable when it cannot be started; a non-zero exit is a result, not an error.
Result<CommandResult> run_command(const std::vector<std::string>& argv);
// The same, with a non-zero exit turned into an error quoting `what`, the command and its output.
Result<CommandResult> run_checked(const std::vector<std::string>& argv, const std::string& what);

bool is_executable(const std::filesystem::path& p);
std::optional<std::filesystem::path> find_runuser();

// kill(pid, 0) succeeds on a zombie, and an orphaned postmaster stays one where PID 1 does not reap (some
// container inits): alive means running and not a zombie.
bool process_alive(pid_t pid);

// The errors of this folder's process and file helpers: kUnavailable (fleetd cannot start its database).
Error pg_failure(std::string message);

}  // namespace fleet::pg
