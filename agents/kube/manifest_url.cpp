#include "agents/kube/manifest_url.hpp"

#include <algorithm>
#include <cctype>

#include "agents/kube/json_fields.hpp"
#include "model/names.hpp"

namespace fleet::agent::kube {
namespace {

struct KindInfo {
  std::string_view kind;
  std::string_view plural;
  bool cluster_scoped;
};

// Kinds whose plural is not the default rule's, and the cluster-scoped kinds a workload might carry.
constexpr KindInfo kKinds[] = {
    {"Endpoints", "endpoints", false},
    {"Ingress", "ingresses", false},
    {"NetworkPolicy", "networkpolicies", false},
    {"PodDisruptionBudget", "poddisruptionbudgets", false},
    {"ResourceQuota", "resourcequotas", false},
    {"PriorityClass", "priorityclasses", true},
    {"StorageClass", "storageclasses", true},
    {"IngressClass", "ingressclasses", true},
    {"RuntimeClass", "runtimeclasses", true},
    {"DeviceClass", "deviceclasses", true},
    {"Namespace", "namespaces", true},
    {"Node", "nodes", true},
    {"PersistentVolume", "persistentvolumes", true},
    {"ClusterRole", "clusterroles", true},
    {"ClusterRoleBinding", "clusterrolebindings", true},
    {"CustomResourceDefinition", "customresourcedefinitions", true},
    {"MutatingWebhookConfiguration", "mutatingwebhookconfigurations", true},
    {"ValidatingWebhookConfiguration", "validatingwebhookconfigurations", true},
    {"APIService", "apiservices", true},
    {"ResourceSlice", "resourceslices", true},
};

const KindInfo* find_kind(std::string_view kind) {
  for (const KindInfo& k : kKinds) {
    if (k.kind == kind) return &k;
  }
  return nullptr;
}

bool path_segment_ok(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

}  // namespace

std::string ObjectRef::display() const {
  return kind + " " + (namespace_.empty() ? name : namespace_ + "/" + name);
}

std::string plural_of(std::string_view kind) {
  if (const KindInfo* k = find_kind(kind)) return std::string(k->plural);
  std::string lower;
  for (char c : kind) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.empty()) return lower;
  // The rule of k8s.io/apimachinery's UnsafeGuessKindToResource.
  const char last = lower.back();
  if (last == 's' || last == 'x' || last == 'z' || (lower.size() >= 2 && lower.substr(lower.size() - 2) == "ch") ||
      (lower.size() >= 2 && lower.substr(lower.size() - 2) == "sh")) {
    return lower + "es";
  }
  if (last == 'y' && lower.size() >= 2 &&
      std::string_view("aeiou").find(lower[lower.size() - 2]) == std::string::npos) {
    return lower.substr(0, lower.size() - 1) + "ies";
  }
  return lower + "s";
}

bool is_cluster_scoped(std::string_view kind) {
  const KindInfo* k = find_kind(kind);
  return k && k->cluster_scoped;
}

Result<ObjectRef> object_ref(const nlohmann::json& manifest, std::string_view default_namespace) {
  if (!manifest.is_object()) return make_error(ErrorCode::kInvalid, "a manifest must be a JSON object");
  ObjectRef r;
  r.api_version = str(manifest, "apiVersion");
  r.kind = str(manifest, "kind");
  const auto md = manifest.find("metadata");
  if (md != manifest.end() && md->is_object()) {
    r.name = str(*md, "name");
    r.namespace_ = str(*md, "namespace");
  }
  if (r.api_version.empty() || r.kind.empty()) {
    return make_error(ErrorCode::kInvalid, "a manifest needs apiVersion and kind");
  }
  if (r.name.empty()) return make_error(ErrorCode::kInvalid, "manifest " + r.kind + ": metadata.name is required");
  if (!path_segment_ok(r.name) ||
      !std::all_of(r.kind.begin(), r.kind.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); })) {
    return make_error(ErrorCode::kInvalid, "manifest " + r.kind + " \"" + r.name + "\": invalid kind or name");
  }
  const auto slash = r.api_version.find('/');
  std::string group_path;
  if (slash == std::string::npos) {
    if (!path_segment_ok(r.api_version))
      return make_error(ErrorCode::kInvalid, "invalid apiVersion \"" + r.api_version + "\"");
    group_path = "/api/" + r.api_version;  // the core group
  } else {
    const std::string group = r.api_version.substr(0, slash);
    const std::string version = r.api_version.substr(slash + 1);
    if (!path_segment_ok(group) || !path_segment_ok(version)) {
      return make_error(ErrorCode::kInvalid, "invalid apiVersion \"" + r.api_version + "\"");
    }
    group_path = "/apis/" + group + "/" + version;
  }
  if (is_cluster_scoped(r.kind)) {
    r.namespace_.clear();
    r.path = group_path + "/" + plural_of(r.kind) + "/" + r.name;
  } else {
    if (r.namespace_.empty()) r.namespace_ = std::string(default_namespace);
    if (auto s = model::validate_dns1123_label(r.namespace_, "metadata.namespace"); !s) {
      return make_error(ErrorCode::kInvalid, "manifest " + r.display() + ": " + s.error().message);
    }
    r.path = group_path + "/namespaces/" + r.namespace_ + "/" + plural_of(r.kind) + "/" + r.name;
  }
  return r;
}

}  // namespace fleet::agent::kube
