#pragma once
// Daemons here take SIGINT/SIGTERM on one thread with sigwait(): block them before any thread starts (every
// thread inherits the mask) and ignore SIGPIPE (a peer that closes a socket must not kill the process).
#include <signal.h>

namespace fleet {

inline sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

}  // namespace fleet
