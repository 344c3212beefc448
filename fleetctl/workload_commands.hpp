#pragma once
// Workloads from the command line (issue #14): `get workloads [NAME]`, `describe workload NAME`,
// `delete workload NAME` (`apply -f` is apply_command's, for every kind). Each command returns the process exit code.
#include <cstddef>
#include <optional>
#include <string>

#include "fleetctl/list_output.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct WorkloadOptions {
  std::string name;
  std::optional<std::size_t> limit;
  ListOptions list;  // get workloads: -o, --no-headers, --sort-by
};

// Every workload (all pages unless --limit), or one by name.
int get_workloads(Session& session, const WorkloadOptions& options);
int describe_workload_command(Session& session, const std::string& name);
int describe_placement_command(Session& session, const std::string& name);
// "workload/NAME deleted" (200), or "workload/NAME deletion requested" (202: the placement loop removes it from its
// clusters first).
int delete_workload(Session& session, const std::string& name);

}  // namespace fleet::ctl
