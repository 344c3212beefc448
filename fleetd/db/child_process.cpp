#include "fleetd/db/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace fleet::pg {

namespace fs = std::filesystem;

Error pg_failure(std::string message) {
  return make_error(ErrorCode::kUnavailable, std::move(message));
}

std::string describe_argv(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

Result<CommandResult> run_command(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return pg_failure(std::string("pipe2: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addchdir_np(&actions, "/");
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return pg_failure("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  CommandResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// Runs argv (as `run_as` through runuser when set) and turns a non-zero exit into an error quoting its output.
Result<CommandResult> run_checked(const std::vector<std::string>& argv, const std::string& what) {
  auto r = run_command(argv);
  if (!r.ok()) return r.error();
  if (r->exit_code != 0) {
    std::string out = r->output;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return pg_failure(what + " failed (exit " + std::to_string(r->exit_code) + ", command: " + describe_argv(argv) +
                      "): " + out);
  }
  return r;
}

bool is_executable(const fs::path& p) {
  return access(p.c_str(), X_OK) == 0 && !fs::is_directory(p);
}

std::optional<fs::path> find_runuser() {
  for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"}) {
    if (is_executable(p)) return fs::path(p);
  }
  return std::nullopt;
}

bool process_alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;  // ESRCH: gone; EPERM: not ours (PostgreSQL also treats it as dead)
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return true;
  std::ostringstream content;
  content << in.rdbuf();
  const std::optional<std::string> stat = content.str();
  auto paren = stat->rfind(')');  // "pid (comm) S …": comm may contain spaces and parentheses
  return paren == std::string::npos || paren + 2 >= stat->size() || (*stat)[paren + 2] != 'Z';
}

}  // namespace fleet::pg
