#include "fleetd/loops/workload_manifests.hpp"

#include <set>

namespace fleet {

namespace {

const std::set<std::string> kScaled = {"Deployment", "StatefulSet", "ReplicaSet"};
const std::set<std::string> kTemplated = {"Deployment", "StatefulSet", "ReplicaSet", "Job", "DaemonSet"};

nlohmann::json toleration_json(const placement::Toleration& t) {
  nlohmann::json j = {{"key", t.key}, {"operator", t.op == placement::Toleration::Op::kExists ? "Exists" : "Equal"}};
  if (t.op == placement::Toleration::Op::kEqual) j["value"] = t.value;
  if (!t.effect.empty()) j["effect"] = t.effect;
  return j;
}

void set_label(nlohmann::json& metadata, const std::string& key, const std::string& value) {
  if (!metadata.is_object()) metadata = nlohmann::json::object();
  nlohmann::json& labels = metadata["labels"];
  if (!labels.is_object()) labels = nlohmann::json::object();
  labels[key] = value;
}

// What every pinned pod spec gets besides the workload: the bound nodes and their GPU product.
struct Pinning {
  const placement::Workload& workload;
  const placement::ClusterBinding& binding;
  const std::string& gpu_product;
};

void pin_pod_spec(nlohmann::json& pod_spec, const Pinning& pin, bool request_gpus = true) {
  const placement::Workload& workload = pin.workload;
  const placement::ClusterBinding& binding = pin.binding;
  if (!pod_spec.is_object()) pod_spec = nlohmann::json::object();
  if (!binding.nodes.empty()) {
    nlohmann::json hosts = nlohmann::json::array();
    for (const placement::NodeShare& share : binding.nodes) hosts.push_back(share.node);
    pod_spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
        {"nodeSelectorTerms",
         {{{"matchExpressions", {{{"key", "kubernetes.io/hostname"}, {"operator", "In"}, {"values", hosts}}}}}}}};
  }
  if (!workload.policy.tolerations.empty()) {
    nlohmann::json& tolerations = pod_spec["tolerations"];
    if (!tolerations.is_array()) tolerations = nlohmann::json::array();
    for (const placement::Toleration& t : workload.policy.tolerations) tolerations.push_back(toleration_json(t));
  }
  const int gpus = workload.resources.gpus;
  if (request_gpus && gpus > 0 && !pin.gpu_product.empty()) {
    nlohmann::json& selector = pod_spec["nodeSelector"];
    if (!selector.is_object()) selector = nlohmann::json::object();
    selector[kGpuProductLabel] = pin.gpu_product;
  }
  if (request_gpus && gpus > 0 && pod_spec.contains("containers") && pod_spec["containers"].is_array() &&
      !pod_spec["containers"].empty() && pod_spec["containers"][0].is_object()) {
    nlohmann::json& limits = pod_spec["containers"][0]["resources"]["limits"];
    if (!limits.is_object()) limits = nlohmann::json::object();
    if (!limits.contains("nvidia.com/gpu")) limits["nvidia.com/gpu"] = gpus;
  }
}

void pin_template(nlohmann::json& pod_template, const Pinning& pin, bool request_gpus = true) {
  if (!pod_template.is_object()) pod_template = nlohmann::json::object();
  set_label(pod_template["metadata"], kWorkloadLabel, pin.workload.name);
  pin_pod_spec(pod_template["spec"], pin, request_gpus);
}

// A KubeRay cluster spec (RayCluster's spec, RayService's spec.rayClusterConfig): every group's pods on the bound
// nodes; the workers take the GPUs, the head (Ray's scheduler and dashboard) asks for none.
void pin_ray_cluster(nlohmann::json& cluster_spec, const Pinning& pin) {
  if (!cluster_spec.is_object()) return;
  if (cluster_spec.contains("headGroupSpec") && cluster_spec["headGroupSpec"].is_object()) {
    pin_template(cluster_spec["headGroupSpec"]["template"], pin, false);
  }
  if (!cluster_spec.contains("workerGroupSpecs") || !cluster_spec["workerGroupSpecs"].is_array()) return;
  for (nlohmann::json& group : cluster_spec["workerGroupSpecs"]) {
    if (group.is_object()) pin_template(group["template"], pin);
  }
}

}  // namespace

nlohmann::json render_manifests(const nlohmann::json& manifests, const placement::Workload& workload,
                                std::int64_t generation, const placement::ClusterBinding& binding,
                                const std::string& gpu_product) {
  const Pinning pin{workload, binding, gpu_product};
  nlohmann::json out = manifests;
  for (nlohmann::json& object : out) {
    if (!object.is_object()) continue;
    const std::string kind = object.value("kind", "");
    set_label(object["metadata"], kWorkloadLabel, workload.name);
    set_label(object["metadata"], kGenerationLabel, std::to_string(generation));
    if (kind == "Pod") {
      pin_pod_spec(object["spec"], pin);
    } else if (kind == "RayCluster") {
      pin_ray_cluster(object["spec"], pin);
    } else if (kind == "RayService" && object.contains("spec") && object["spec"].is_object()) {
      pin_ray_cluster(object["spec"]["rayClusterConfig"], pin);
    } else if (kind == "Workspace" && object.contains("resource") && object["resource"].is_object() &&
               !binding.nodes.empty()) {
      // KAITO provisions or picks the GPU nodes itself; preferredNodes makes it use the bound ones.
      nlohmann::json& preferred = object["resource"]["preferredNodes"];
      preferred = nlohmann::json::array();
      for (const placement::NodeShare& share : binding.nodes) preferred.push_back(share.node);
    } else if (kTemplated.contains(kind)) {
      nlohmann::json& spec = object["spec"];
      if (!spec.is_object()) spec = nlohmann::json::object();
      if (kScaled.contains(kind)) spec["replicas"] = binding.replicas;
      pin_template(spec["template"], pin);
    }
  }
  return out;
}

nlohmann::json placement_member(const placement::Workload& workload, std::int64_t generation,
                                const placement::ClusterBinding& binding) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const placement::NodeShare& share : binding.nodes)
    nodes.push_back({{"node", share.node}, {"replicas", share.replicas}});
  return {{"workload", workload.name},
          {"generation", generation},
          {"gpusPerReplica", workload.resources.gpus},
          {"cpuMillicores", workload.resources.cpu_millicores},
          {"memoryBytes", workload.resources.memory_bytes},
          {"nodes", std::move(nodes)}};
}

}  // namespace fleet
