#pragma once
// The version catalog from the command line (issue #12 item 1): get versions. Returns the process exit code.
#include <string>

#include "fleetctl/list_output.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct GetVersionsOptions {
  std::string kind, provider, os_family;  // filters, sent as query parameters; empty → any
  bool include_retired = false;
  ListOptions list;  // -o, --no-headers, --sort-by
};
int get_versions(Session& session, const GetVersionsOptions& options);

}  // namespace fleet::ctl
