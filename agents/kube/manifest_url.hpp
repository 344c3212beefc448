#pragma once
// Where a manifest lives in the API: apiVersion + kind + namespace + name → the object's path
// ("/apis/apps/v1/namespaces/default/deployments/llama"). No discovery: the core, apps, batch and a few other
// groups' kinds come from a table, any other kind gets Kubernetes' default plural (lowercase + "s", "es", "ies").
// Pure.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::agent::kube {

struct ObjectRef {
  std::string api_version;  // "v1", "apps/v1"
  std::string kind;         // "Deployment"
  std::string name;
  std::string namespace_;  // empty for cluster-scoped kinds
  std::string path;  // "/api/v1/namespaces/default/configmaps/x", "/apis/rbac.authorization.k8s.io/v1/clusterroles/y"

  std::string display() const;  // "Deployment default/llama", "ClusterRole y"
};

// kInvalid when apiVersion, kind or metadata.name is missing or not a valid path segment. A namespaced kind
// without metadata.namespace gets `default_namespace`.
Result<ObjectRef> object_ref(const nlohmann::json& manifest, std::string_view default_namespace);

std::string plural_of(std::string_view kind);
bool is_cluster_scoped(std::string_view kind);

}  // namespace fleet::agent::kube
