#pragma once
// `fleetctl apply -f FILE|-` (issue #16 item 5): every document of a JSON or YAML file created or brought up to date,
// in order, kubectl style; the kinds and how each is written are in apply_kinds.hpp.
#include <string>

#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct ApplyOptions {
  std::string file;    // JSON or YAML; "-" reads stdin
  std::string output;  // "" (one "KIND/NAME created|configured|unchanged" line a document) | json | yaml
};

// Every document is checked (kinds, names) before anything is sent; then each is applied in turn, and the first
// failure stops the rest, after the output of those already applied. Returns the exit code.
int apply_command(Session& session, const ApplyOptions& options);

}  // namespace fleet::ctl
