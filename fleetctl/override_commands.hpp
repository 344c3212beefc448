#pragma once
// Overrides from the command line (issue #15 item 2): `get overrides [NAME] [--workload W]`, `describe override
// NAME`, `delete override NAME` (`apply -f` of kind Override is apply_command's). Each returns the exit code.
#include <cstddef>
#include <optional>
#include <string>

#include "fleetctl/list_output.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct OverrideOptions {
  std::string name;
  std::string workload;  // get: only the overrides that name it
  std::optional<std::size_t> limit;
  ListOptions list;  // get overrides: -o, --no-headers, --sort-by
};

int get_overrides(Session& session, const OverrideOptions& options);
int describe_override_command(Session& session, const std::string& name);
// "override/NAME deleted".
int delete_override(Session& session, const std::string& name);

}  // namespace fleet::ctl
