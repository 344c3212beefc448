// fleet-agent's kubeconfig reader (YAML, contexts, inline *-data in base64). Pure: file references become paths
// under a base directory and are not opened here.
#include "agents/kube/kubeconfig.hpp"
#include "fuzz/fuzz_target.hpp"

FLEET_FUZZ_HARNESS(kubeconfig) {
  using namespace fleet;
  (void)agent::kube::parse_kubeconfig(data, "", "/nonexistent/kube");
  (void)agent::kube::parse_kubeconfig(data, "gpu-cluster", "/nonexistent/kube");
  (void)agent::kube::base64_decode(data);
}
