#pragma once
// get / describe / create / label / taint / delete for clusters. Each returns the process exit code.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "fleetctl/list_output.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct GetClustersOptions {
  std::string name;      // empty → list
  std::string selector;  // -l
  ListOptions list;      // -o, --no-headers, --sort-by
  std::optional<std::size_t> limit;
};
int get_clusters(Session& session, const GetClustersOptions& options);

int describe_cluster_command(Session& session, const std::string& name);

struct CreateClusterOptions {
  std::string name;
  std::string provider;
  std::optional<std::string> region;
  std::vector<std::string> labels;  // k=v
  std::vector<std::string> taints;  // k=v:Effect
  std::optional<std::string> update_group;
  std::string file;  // -f: the request body as JSON ("-" → stdin)
  std::string output;
};
int create_cluster(Session& session, const CreateClusterOptions& options);

struct LabelOptions {
  std::string name;
  std::vector<std::string> changes;
  bool overwrite = false;
};
int label_cluster(Session& session, const LabelOptions& options);

struct TaintOptions {
  std::string name;
  std::vector<std::string> changes;
  bool overwrite = false;
};
int taint_cluster(Session& session, const TaintOptions& options);

int delete_cluster(Session& session, const std::string& name);

// The create body from flags (not -f): validated client-side; kInvalid (usage) names the bad flag.
Result<nlohmann::json> cluster_body_from_flags(const CreateClusterOptions& options);

}  // namespace fleet::ctl
