#pragma once
// `get … --watch` and `describe … --watch` (kubectl's -w): run the command every 2 s on the session's clock and
// print only when what it renders changes. On a terminal the new rendering replaces the old one in place; elsewhere
// (a pipe, a CI log) a table prints its header once and then only the rows that changed, as kubectl's watch does,
// and other output (describe, -o json|yaml|jsonpath) prints whole each time it changes. Reuses rollout_watch's
// WatchWriter. Ends on Ctrl-C, on Environment::interrupted (tests), on a usage or client error, or after 5 server
// errors in a row (one is a warning and a retry: a fleetd restart should not end a watch).
#include <functional>
#include <string>
#include <vector>

#include "fleetctl/rollout_view.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

enum class WatchLayout {
  kRows,   // a table: keyed by each line's first column
  kFrame,  // anything else: the whole rendering
};

int watch_command(Session& session, const std::function<int(Session&)>& render, WatchLayout layout);

// Pure: a rendering as WatchWriter lines. kRows keys a line by its first word and how often that word came before
// (so a header and rows that share a first word stay apart); kFrame by line number.
std::vector<StatusLine> watch_lines(const std::string& text, WatchLayout layout);

}  // namespace fleet::ctl
