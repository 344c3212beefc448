#include "agents/sim_backend.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <utility>

#include "admission/probe_result_wire.hpp"
#include "common/log.hpp"

namespace fleet::agent {

SimBackend::SimBackend(SimCluster cluster, std::function<double()> clock, double time_scale)
    : cluster_(std::move(cluster)), clock_(std::move(clock)) {
  const auto since_zero = std::chrono::duration<double>(clock_() / time_scale);
  cluster_.set_wall_clock(
      std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(since_zero),
      time_scale);
}

Result<model::ClusterInventory> SimBackend::inventory() {
  cluster_.advance(clock_());
  return cluster_.inventory();
}

namespace {

// The workload a workload command is about, or "" for any other command (or one without a placement).
std::string workload_of(const protocol::Command& command) {
  if (const auto* apply = std::get_if<protocol::ApplyWorkload>(&command.payload); apply && apply->placement) {
    return apply->placement->workload;
  }
  if (const auto* del = std::get_if<protocol::DeleteWorkload>(&command.payload); del && del->placement) {
    return del->placement->workload;
  }
  return "";
}

// Written to a temporary name and renamed, so that a reader never sees half a file.
void write_objects(const std::filesystem::path& file, const std::vector<nlohmann::json>* objects) {
  std::error_code ec;
  if (objects == nullptr) {
    std::filesystem::remove(file, ec);
    return;
  }
  std::filesystem::create_directories(file.parent_path(), ec);
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << nlohmann::json(*objects).dump(2) << "\n";
    if (!out) {
      log::warn("sim: cannot write applied manifests", {{"file", file.string()}});
      return;
    }
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) log::warn("sim: cannot write applied manifests", {{"file", file.string()}, {"error", ec.message()}});
}

}  // namespace

Result<StartResult> SimBackend::start(const protocol::Command& command) {
  auto result = cluster_.start(command, clock_());
  if (const std::string workload = workload_of(command); !manifests_dir_.empty() && !workload.empty()) {
    write_objects(std::filesystem::path(manifests_dir_) / cluster_.spec().name / (workload + ".json"),
                  cluster_.applied_objects(workload));
  }
  return result;
}

std::vector<protocol::CommandEvent> SimBackend::poll() {
  cluster_.advance(clock_());
  return cluster_.take_events();
}

std::optional<protocol::CommandStatus> SimBackend::status(std::string_view command_id) const {
  return cluster_.status(command_id);
}

std::vector<protocol::ProbeResult> SimBackend::take_probe_results() {
  const double now = clock_();
  cluster_.advance(now);
  const auto shift = std::chrono::system_clock::now() - SimCluster::wall_time(now);
  std::vector<protocol::ProbeResult> out;
  for (const admission::ProbeRecord& record : cluster_.take_probe_records()) {
    protocol::ProbeResult r = admission::to_probe_result(record);
    r.started_at += shift;
    r.finished_at += shift;
    out.push_back(std::move(r));
  }
  return out;
}

void SimBackend::set_admission_policy(const admission::AdmissionPolicy& policy) {
  cluster_.set_admission_policy(policy, clock_());
}

std::optional<double> SimBackend::seconds_until_due() const {
  auto due = cluster_.next_due();
  if (!due) return std::nullopt;
  double left = *due - clock_();
  return left > 0 ? left : 0.0;
}

bool SimBackend::disconnected() const {
  return cluster_.should_disconnect(clock_());
}

std::function<double()> scaled_steady_clock(double time_scale) {
  auto start = std::chrono::steady_clock::now();
  return [start, time_scale] {
    std::chrono::duration<double> real = std::chrono::steady_clock::now() - start;
    return real.count() * time_scale;
  };
}

}  // namespace fleet::agent
