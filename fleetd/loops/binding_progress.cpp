#include "fleetd/loops/binding_progress.hpp"

namespace fleet {

namespace {

bool gpus_in_use_on_every_node(const store::AppliedBinding& a) {
  for (const placement::NodeShare& share : a.binding.nodes) {
    const auto it = a.allocated_gpus.find(share.node);
    if (it == a.allocated_gpus.end() || it->second < share.replicas * a.gpus_per_replica) return false;
  }
  return true;
}

std::optional<BindingProgress> from_read_back(const store::AppliedBinding& a, const store::ReadBackStatus& r) {
  const std::string& cluster = a.binding.cluster;
  if (r.state == "Failed") {
    const std::string message = "the cluster reports the workload failed: " + r.message;
    return BindingProgress{"Failed", message, {"Failed", cluster, message}};
  }
  if (r.state == "Ready") {
    if (a.binding.state == "Running") return std::nullopt;
    return BindingProgress{
        "Running", "", {"Running", cluster, "the cluster reports every object of the workload ready"}};
  }
  if (a.binding.state != "Running") return std::nullopt;  // Progressing: still on its way
  return BindingProgress{"Applied", r.message, {"Applied", cluster, "the cluster reports it not ready: " + r.message}};
}

}  // namespace

std::optional<BindingProgress> binding_progress(const store::AppliedBinding& a) {
  if (a.read_back && a.read_back->generation >= a.binding.generation) return from_read_back(a, *a.read_back);
  if (a.binding.state != "Applied" || !gpus_in_use_on_every_node(a)) return std::nullopt;
  return BindingProgress{"Running", "", {"Running", a.binding.cluster, "every replica runs on its nodes"}};
}

}  // namespace fleet
