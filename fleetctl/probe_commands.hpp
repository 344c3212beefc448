#pragma once
// GPU admission from the command line (issue #11): get probes, describe node, and the operator's actions probe /
// admit / quarantine node. Each command returns the process exit code.
#include <cstddef>
#include <optional>
#include <string>

#include "fleetctl/list_output.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct GetProbesOptions {
  std::string cluster, verdict, model, check, since;  // filters, sent as query parameters; empty → any
  ListOptions list;                                   // -o, --no-headers, --sort-by
  std::optional<std::size_t> limit;                   // default 100: the newest results
};
int get_probes(Session& session, const GetProbesOptions& options);

// CLUSTER/NODE: the node, its last probe and that probe's report as a per-check table.
int describe_node_command(Session& session, const std::string& cluster_slash_node, const std::string& output);

enum class NodeAdmissionAction { kProbe, kAdmit, kQuarantine };
// POST /v1/clusters/{cluster}/nodes/{node}:probe|:admit|:quarantine; prints the queued command's id. A reason is
// required to admit or quarantine.
int node_admission_command(Session& session, NodeAdmissionAction action, const std::string& cluster_slash_node,
                           const std::string& reason);

}  // namespace fleet::ctl
