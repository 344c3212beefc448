#pragma once
// What fleetd sends a cluster for a binding: the workload's manifests with the decision written into them, so that
// any agent (the kubernetes backend applies objects as given) runs what the engine decided:
// - workload controllers (Deployment, StatefulSet, ReplicaSet) get the binding's replica count;
// - every pod template (those, Job, DaemonSet; a bare Pod's own spec) gets a required node affinity to the bound
//   nodes (kubernetes.io/hostname), the workload's tolerations, a GPU request on its first container when it asks
//   for none, and the label fleet.io/workload; one that requests GPUs also gets the nodeSelector
//   nvidia.com/gpu.product (GPU Feature Discovery's label) when the bound nodes share one product;
// - KubeRay's RayCluster and RayService: every group's pod template the same way (the head group without the GPU
//   request); KAITO's Workspace: resource.preferredNodes lists the bound nodes;
// - every object gets the labels fleet.io/workload and fleet.io/generation, so delete_workload, the agent's
//   read-back (agents/kube/workload_follower.hpp) and people can find them.
// Kubernetes cannot pin "2 replicas on n1, 1 on n3": the affinity limits the pods to the bound nodes, whose free
// GPUs the engine counted; the per-node counts travel in the command's placement member for the agent's books.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "placement/decision.hpp"
#include "placement/workload.hpp"

namespace fleet {

inline constexpr const char* kWorkloadLabel = "fleet.io/workload";
inline constexpr const char* kGenerationLabel = "fleet.io/generation";

inline constexpr const char* kGpuProductLabel = "nvidia.com/gpu.product";

// `manifests`: the workload's array of objects (validated at the API). `gpu_product`: the bound nodes' common
// nvidia.com/gpu.product label value, "" when they have none or differ. Returns the array to apply on the cluster.
nlohmann::json render_manifests(const nlohmann::json& manifests, const placement::Workload& workload,
                                std::int64_t generation, const placement::ClusterBinding& binding,
                                const std::string& gpu_product = "");

// The command's `placement` member: {"workload", "generation", "gpusPerReplica", "cpuMillicores", "memoryBytes",
// "nodes": [{"node", "replicas"}]}.
nlohmann::json placement_member(const placement::Workload& workload, std::int64_t generation,
                                const placement::ClusterBinding& binding);

}  // namespace fleet
