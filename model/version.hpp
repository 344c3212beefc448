#pragma once
// Kubernetes release versions ("1.32.7", "v1.32.7"): parsed once, compared as numbers. The control plane moves
// one minor version at a time and nodes may not be newer than it; the rules that need those facts (the sim, the
// rollout planner) compare these, never strings.
#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleet::model {

struct KubernetesVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const KubernetesVersion&) const = default;

  // Same major, and `other` at most one minor version later: what one control-plane upgrade may do.
  bool within_one_minor_of(const KubernetesVersion& other) const;
};

// "1.31.4" or "v1.31.4": three non-negative integers. nullopt for anything else ("1.31", "1.31.4-rc.1").
std::optional<KubernetesVersion> parse_kubernetes_version(std::string_view text);
// A version as a cluster reports it (its API server's gitVersion, a kubelet's): also with the distribution's
// suffix, which names a build of that release and is ignored here: semver build metadata ("v1.31.4+k3s1",
// "+rke2r1") and the managed clouds' tags ("v1.31.4-eks-a737599", "v1.31.4-gke.1256000"). A pre-release
// ("1.31.4-rc.1") is still nullopt: it comes before 1.31.4, so reading it as 1.31.4 would be wrong.
std::optional<KubernetesVersion> parse_reported_kubernetes_version(std::string_view text);
std::string to_string(const KubernetesVersion& version);  // "1.31.4", without the "v"

// Of the versions a pool's kubelets report, the oldest release, as reported ("1.31.9" before "1.31.10", which text
// order gets wrong); one that does not parse counts only when none does (then the first). "" for none.
std::string oldest_reported(const std::vector<std::string>& reported);

}  // namespace fleet::model
