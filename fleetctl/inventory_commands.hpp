#pragma once
// get nodes / get gpus, and the inventory part of describe cluster. Each command returns the process exit code.
#include <cstddef>
#include <optional>
#include <string>

#include "fleetctl/list_output.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct GetNodesOptions {
  std::string cluster;  // --cluster; empty → every cluster's nodes, each with a "cluster" member
  ListOptions list;     // -o, --no-headers, --sort-by
  std::optional<std::size_t> limit;
};
int get_nodes(Session& session, const GetNodesOptions& options);

struct GetGpusOptions {
  std::string cluster;  // filters, sent as query parameters; empty → any
  std::string model;
  std::string health;     // healthy | unhealthy | unknown
  std::string admission;  // pending_probe | admitted | quarantined
  ListOptions list;
  std::optional<std::size_t> limit;
};
int get_gpus(Session& session, const GetGpusOptions& options);

// For describe cluster: the cluster's nodes rendered as pools, GPU totals and a node list. A failure to list the
// nodes is not the describe's failure: it becomes a warning on stderr and an empty string.
std::string describe_cluster_inventory(Session& session, ApiClient& api, const std::string& cluster);

}  // namespace fleet::ctl
