#pragma once
// The sim backend: a SimCluster on a clock the caller supplies (fleet-agent and fleet-sim map real time through
// the spec's timeScale; tests drive it by hand). All the cluster's behaviour lives in SimCluster; this adapter
// only keeps its clock moving.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/cluster_backend.hpp"
#include "agents/sim_cluster.hpp"

namespace fleet::agent {

class SimBackend final : public ClusterBackend {
 public:
  // `clock` returns simulated seconds at `time_scale` simulated seconds per real one; it must not go backwards.
  // The cluster maps wall times (a command's notAfter) onto it from now on.
  SimBackend(SimCluster cluster, std::function<double()> clock, double time_scale = 1);

  std::string_view name() const override { return "sim"; }
  Result<model::ClusterInventory> inventory() override;
  Result<StartResult> start(const protocol::Command& command) override;
  std::vector<protocol::CommandEvent> poll() override;
  std::optional<protocol::CommandStatus> status(std::string_view command_id) const override;
  // Simulated probe times moved onto the real clock: the last simulated second is now.
  std::vector<protocol::ProbeResult> take_probe_results() override;
  void set_admission_policy(const admission::AdmissionPolicy& policy) override;

  // Simulated seconds until the next transition is due (nullopt when nothing runs), so that the agent loop can
  // wake up in time to report it.
  std::optional<double> seconds_until_due() const;
  // The agentDisconnect fault, now.
  bool disconnected() const;
  const SimCluster& cluster() const { return cluster_; }
  // After every apply_workload and delete_workload, write the workload's applied objects to
  // `dir`/CLUSTER/WORKLOAD.json (a JSON array), or remove that file when the cluster holds none: how fleet-sim
  // shows a test what fleetd sent each cluster (--manifests-dir). Empty: nothing is written.
  void set_manifests_dir(std::string dir) { manifests_dir_ = std::move(dir); }

 private:
  SimCluster cluster_;
  std::function<double()> clock_;
  std::string manifests_dir_;
};

// Simulated seconds since `start` at `time_scale` simulated seconds per real second.
std::function<double()> scaled_steady_clock(double time_scale);

}  // namespace fleet::agent
