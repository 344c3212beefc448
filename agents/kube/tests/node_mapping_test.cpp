// The pure mappings: Node JSON → NodeInfo (GFD labels), ResourceSlices → GPUs, the drain's pod filter and the
// taint list arithmetic.
#include <catch2/catch.hpp>

#include "agents/kube/commands.hpp"
#include "agents/kube/node_mapping.hpp"
#include "agents/kube/resource_slices.hpp"

namespace fleet::agent::kube {

using nlohmann::json;

namespace {

json gpu_node() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Node",
    "metadata": {"name": "aks-gpu-12345678-vmss000000", "resourceVersion": "42",
      "labels": {
        "kubernetes.azure.com/agentpool": "gpu",
        "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202510.01.0",
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/region": "westeurope",
        "nvidia.com/gpu.present": "true",
        "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3",
        "nvidia.com/gpu.memory": "81559",
        "nvidia.com/gpu.count": "8",
        "nvidia.com/cuda.driver.major": "550",
        "nvidia.com/cuda.driver.minor": "90",
        "nvidia.com/cuda.driver.rev": "07",
        "nvidia.com/cuda.runtime.major": "12",
        "nvidia.com/cuda.runtime.minor": "4",
        "nvidia.com/mig.capable": "true",
        "nvidia.com/mig.strategy": "none",
        "bad label key!": "x"
      }},
    "spec": {"taints": [
      {"key": "fleet.io/gpu-unverified", "effect": "NoSchedule"},
      {"key": "sku", "value": "gpu", "effect": "NoSchedule"}]},
    "status": {
      "capacity": {"cpu": "96", "memory": "1056Gi", "nvidia.com/gpu": "8", "pods": "110"},
      "allocatable": {"cpu": "95110m", "memory": "1000000Ki", "nvidia.com/gpu": "8"},
      "nodeInfo": {"kubeletVersion": "v1.31.4", "osImage": "Ubuntu 22.04.5 LTS"}}
  })");
}

}  // namespace

TEST_CASE("node mapping: an AKS GPU node with GPU Feature Discovery labels", "[kube]") {
  auto n = node_info_from_k8s(gpu_node(), NodeMappingOptions{"aks-westeurope-1", 7});
  REQUIRE(n.ok());
  CHECK(n->name == "aks-gpu-12345678-vmss000000");
  CHECK(n->pool == "gpu");
  CHECK(n->kubernetes_version == "1.31.4");
  CHECK(n->node_image_version == "AKSUbuntu-2204gen2containerd-202510.01.0");
  CHECK(n->schedulable);
  CHECK(n->admission == model::Admission::kPendingProbe);
  CHECK(n->taints.size() == 2);
  CHECK(n->labels.count("bad label key!") == 0);
  CHECK(n->labels.at("nvidia.com/gpu.product") == "NVIDIA-H100-80GB-HBM3");
  CHECK(n->capacity == model::ResourceList{96000, 1056LL << 30, 8});
  CHECK(n->allocatable == model::ResourceList{95110, 1024000000LL, 8});
  REQUIRE(n->gpus.size() == 8);
  for (int i = 0; i < 8; ++i) {
    const model::GpuInfo& g = n->gpus[static_cast<std::size_t>(i)];
    CHECK(g.index == i);
    CHECK(g.uuid == model::make_gpu_uuid(7, "aks-westeurope-1", n->name, i));
    CHECK(g.model == "NVIDIA H100 80GB HBM3");
    CHECK(g.memory_bytes == 81559LL << 20);
    CHECK(g.driver_version == "550.90.07");
    CHECK(g.cuda_version == "12.4");
    CHECK(g.mig_mode == "disabled");
    CHECK(g.health == "healthy");
  }
  model::ClusterInventory inv;
  inv.kubernetes_version = "1.31.4";
  inv.node_image_version = "x";
  inv.nodes.push_back(*n);
  CHECK(model::validate_inventory(inv).ok());
}

TEST_CASE("node mapping: a CPU node, defaults and degraded fields", "[kube]") {
  json node = json::parse(R"({
    "metadata": {"name": "node-1", "labels": {"agentpool": "System_Pool"}},
    "spec": {"unschedulable": true, "taints": [{"key": "fleet.io/gpu-quarantined", "effect": "NoSchedule"},
                                               {"key": "fleet.io/gpu-quarantined", "effect": "NoSchedule"},
                                               {"key": "bad key", "effect": "NoSchedule"}]},
    "status": {"capacity": {"cpu": "8", "memory": "32Gi"}, "allocatable": {"cpu": "7800m", "memory": "bogus"},
               "nodeInfo": {"kubeletVersion": "v1.30.2-gke.100", "osImage": "Ubuntu 22.04.5 LTS"}}
  })");
  auto n = node_info_from_k8s(node, {});
  REQUIRE(n.ok());
  CHECK(n->pool == "system-pool");
  CHECK_FALSE(n->schedulable);
  CHECK(n->admission == model::Admission::kQuarantined);
  CHECK(n->taints.size() == 1);
  CHECK(n->kubernetes_version == "1.30.2-gke.100");
  CHECK(n->node_image_version == "Ubuntu-22.04.5-LTS");
  CHECK(n->capacity.gpus == 0);
  CHECK(n->gpus.empty());
  CHECK(n->allocatable.memory_bytes == 0);

  CHECK(pool_from_labels({}) == "default");
  CHECK(pool_from_labels({{"node.kubernetes.io/pool", "infer"}}) == "infer");
  CHECK_FALSE(node_info_from_k8s(json::parse(R"({"metadata": {"name": "Bad_Name"}})"), {}).ok());
  CHECK_FALSE(node_info_from_k8s(json::parse(R"({"metadata": {}})"), {}).ok());
}

TEST_CASE("node mapping: GPU product names, time-slicing and MIG labels", "[kube]") {
  CHECK(gpu_model_from_product_label("NVIDIA-H100-80GB-HBM3") == "NVIDIA H100 80GB HBM3");
  CHECK(gpu_model_from_product_label("NVIDIA-A100-SXM4-80GB") == "NVIDIA A100-SXM4-80GB");
  CHECK(gpu_model_from_product_label("NVIDIA-L40S-SHARED") == "NVIDIA L40S");
  CHECK(gpu_model_from_product_label("NVIDIA-RTX-PRO-6000") == "NVIDIA RTX PRO 6000");

  json node = gpu_node();
  auto& labels = node["metadata"]["labels"];
  labels["nvidia.com/gpu.replicas"] = "4";
  labels["nvidia.com/gpu.product"] = "NVIDIA-H100-80GB-HBM3-SHARED";
  labels["nvidia.com/mig.strategy"] = "single";
  labels.erase("nvidia.com/cuda.driver.major");
  labels["nvidia.com/cuda.driver-version.full"] = "570.86.15";
  node["status"]["capacity"]["nvidia.com/gpu"] = "32";
  node["status"]["allocatable"]["nvidia.com/gpu"] = "28";
  auto n = node_info_from_k8s(node, {});
  REQUIRE(n.ok());
  CHECK(n->capacity.gpus == 8);
  CHECK(n->allocatable.gpus == 7);
  REQUIRE(n->gpus.size() == 8);
  CHECK(n->gpus[0].model == "NVIDIA H100 80GB HBM3");
  CHECK(n->gpus[0].mig_mode == "enabled");
  CHECK(n->gpus[0].driver_version == "570.86.15");
}

TEST_CASE("node mapping: at most 64 labels, well-known ones first", "[kube]") {
  model::Labels all;
  for (int i = 0; i < 100; ++i) all["example.com/l" + std::to_string(100 + i)] = "v";
  all["kubernetes.io/hostname"] = "n";
  all["topology.kubernetes.io/zone"] = "z";
  all["nvidia.com/gpu.product"] = "p";
  model::Labels kept = select_labels(all);
  CHECK(kept.size() == 64);
  CHECK(kept.count("kubernetes.io/hostname"));
  CHECK(kept.count("topology.kubernetes.io/zone"));
  CHECK(kept.count("nvidia.com/gpu.product"));
  CHECK(kept.count("example.com/l100"));
  CHECK_FALSE(kept.count("example.com/l199"));
}

TEST_CASE("ResourceSlices: NVIDIA DRA devices in the v1 and v1beta1 shapes", "[kube]") {
  json v1 = json::parse(R"({"kind": "ResourceSliceList", "items": [
    {"metadata": {"name": "n1-gpu.nvidia.com-a"}, "spec": {"driver": "gpu.nvidia.com", "nodeName": "n1",
      "pool": {"name": "n1", "generation": 1, "resourceSliceCount": 1},
      "devices": [
        {"name": "gpu-1", "attributes": {"type": {"string": "gpu"}, "uuid": {"string": "GPU-bbbb"},
          "index": {"int": 1}, "productName": {"string": "NVIDIA H200"}, "driverVersion": {"version": "570.86.15"},
          "cudaDriverVersion": {"version": "12.8.0"}}, "capacity": {"memory": {"value": "141Gi"}}},
        {"name": "gpu-0", "attributes": {"type": {"string": "gpu"}, "uuid": {"string": "GPU-aaaa"},
          "index": {"int": 0}, "productName": {"string": "NVIDIA H200"}, "driverVersion": {"version": "570.86.15"},
          "cudaDriverVersion": {"version": "12.8.0"}}, "capacity": {"memory": {"value": "141Gi"}}},
        {"name": "gpu-0-mig-1g", "attributes": {"type": {"string": "mig"}, "uuid": {"string": "MIG-1"},
          "parentUUID": {"string": "GPU-aaaa"}}}
      ]}},
    {"metadata": {"name": "n2-other"}, "spec": {"driver": "example.com/fpga", "nodeName": "n2",
      "devices": [{"name": "f", "attributes": {"uuid": {"string": "F-1"}}}]}}
  ]})");
  auto gpus = gpus_from_resource_slices(v1);
  REQUIRE(gpus.size() == 1);
  const auto& n1 = gpus.at("n1");
  REQUIRE(n1.size() == 2);
  CHECK(n1[0].index == 0);
  CHECK(n1[0].uuid == "GPU-aaaa");
  CHECK(n1[0].mig_mode == "enabled");
  CHECK(n1[1].uuid == "GPU-bbbb");
  CHECK(n1[1].mig_mode == "disabled");
  CHECK(n1[1].model == "NVIDIA H200");
  CHECK(n1[1].memory_bytes == 141LL << 30);
  CHECK(n1[1].driver_version == "570.86.15");
  CHECK(n1[1].cuda_version == "12.8");

  json beta = json::parse(R"({"items": [{"spec": {"driver": "gpu.nvidia.com", "nodeName": "n3", "devices": [
    {"name": "gpu-0", "basic": {"attributes": {"uuid": {"string": "GPU-cccc"}, "productName": {"string": "NVIDIA A100-SXM4-80GB"}},
     "capacity": {"memory": {"value": "80Gi"}}}},
    {"name": "gpu-x", "basic": {"attributes": {"uuid": {"string": "GPU-dddd"}, "index": {"int": 0}}}}]}}]})");
  auto b = gpus_from_resource_slices(beta);
  REQUIRE(b.at("n3").size() == 2);
  CHECK(b.at("n3")[0].uuid == "GPU-dddd");  // kept its index 0
  CHECK(b.at("n3")[1].uuid == "GPU-cccc");  // took the next free one
  CHECK(b.at("n3")[1].index == 1);
  CHECK(b.at("n3")[1].memory_bytes == 80LL << 30);

  // DRA facts replace the label-derived GPUs of the node.
  auto node = node_info_from_k8s(gpu_node(), {});
  REQUIRE(node.ok());
  apply_dra_gpus(*node, n1);
  CHECK(node->capacity.gpus == 2);
  CHECK(node->allocatable.gpus == 2);
  CHECK(node->gpus == n1);
}

TEST_CASE("drain skips DaemonSet and mirror pods", "[kube]") {
  CHECK(pod_needs_eviction(json::parse(R"({"metadata": {"name": "web-1", "ownerReferences": [
      {"kind": "ReplicaSet", "controller": true}]}})")));
  CHECK_FALSE(pod_needs_eviction(json::parse(R"({"metadata": {"name": "ds-1", "ownerReferences": [
      {"kind": "DaemonSet", "controller": true}]}})")));
  CHECK_FALSE(pod_needs_eviction(json::parse(R"({"metadata": {"name": "kube-proxy",
      "annotations": {"kubernetes.io/config.mirror": "abc"}}})")));
  CHECK(pod_needs_eviction(json::parse(R"({"metadata": {"name": "bare"}})")));
}

TEST_CASE("taint changes: add replaces by key and effect, remove by key or key and effect", "[kube]") {
  json current = json::parse(R"([{"key": "fleet.io/gpu-unverified", "effect": "NoSchedule"},
                                 {"key": "sku", "value": "gpu", "effect": "NoSchedule"},
                                 {"key": "sku", "value": "gpu", "effect": "NoExecute"}])");
  TaintChange change;
  change.add = {model::Taint{"fleet.io/gpu-quarantined", "", "NoSchedule"}};
  change.remove = {model::Taint{"fleet.io/gpu-unverified", "", ""}, model::Taint{"sku", "", "NoExecute"}};
  json next = taints_after(current, change);
  CHECK(next == json::parse(R"([{"key": "sku", "value": "gpu", "effect": "NoSchedule"},
                                {"key": "fleet.io/gpu-quarantined", "effect": "NoSchedule"}])"));
  CHECK(taints_after(next, change) == next);  // idempotent

  TaintChange revalue;
  revalue.add = {model::Taint{"sku", "cpu", "NoSchedule"}};
  CHECK(taints_after(current, revalue)[2] == json::parse(R"({"key": "sku", "value": "cpu", "effect": "NoSchedule"})"));
  CHECK(taints_after(nullptr, revalue).size() == 1);
}

}  // namespace fleet::agent::kube
