#pragma once
// Successive frames of `rollout status --watch`. On a terminal each frame replaces the last one in place (cursor
// up, clear to the end of the screen); anywhere else (a CI log, a pipe) only the lines whose content changed are
// printed, with no control codes at all, so the log reads as a list of what happened.
#include <cstddef>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "fleetctl/rollout_view.hpp"

namespace fleet::ctl {

class WatchWriter {
 public:
  WatchWriter(std::ostream& out, bool tty) : out_(out), tty_(tty) {}

  void write(const std::vector<StatusLine>& frame);

 private:
  std::ostream& out_;
  bool tty_;
  std::size_t drawn_lines_ = 0;               // TTY: the height of the frame on screen
  std::map<std::string, std::string> shown_;  // no TTY: each key's last printed content, spacing ignored
};

}  // namespace fleet::ctl
