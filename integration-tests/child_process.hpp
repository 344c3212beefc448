#pragma once
// Starting and stopping real processes (fleetd, fleetctl) from the integration tests.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace fleet::itest {

class ChildProcess {
 public:
  // Starts argv[0] with argv; stdout and stderr go to `log_path` (appended). `env` entries are added.
  ChildProcess(std::vector<std::string> argv, std::string log_path, std::map<std::string, std::string> env = {});
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for exit up to `timeout`; returns the exit code, 128+signal, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs a command to completion (with a timeout) and captures stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv, std::map<std::string, std::string> env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace fleet::itest
