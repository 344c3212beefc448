#include "gpu-probe/core/probe_runner.hpp"

#include <exception>
#include <thread>

namespace fleet::gpuprobe {

NodeMeasurements run_measurements(MeasurementBackend& backend, const MeasurePlan& plan,
                                  const std::optional<std::vector<int>>& selection, const MonotonicMs& now_ms) {
  const double start = now_ms();
  NodeMeasurements node;
  node.env = backend.enumerate(plan);
  auto finish = [&]() -> NodeMeasurements {
    node.wall_ms = now_ms() - start;
    return std::move(node);
  };
  if (node.env.could_not_run) return finish();
  if (node.env.devices_seen_by_driver == 0) {
    node.env.could_not_run = CouldNotRun{"no-cuda-device", "no CUDA device: the driver reports no GPU"};
    return finish();
  }

  std::vector<DeviceInfo> chosen;
  if (selection) {
    for (int want : *selection) {
      const DeviceInfo* found = nullptr;
      for (const auto& d : node.env.devices) {
        if (d.index == want) found = &d;
      }
      if (!found) {
        node.env.could_not_run =
            CouldNotRun{"bad-arguments", "--gpus names device " + std::to_string(want) + ", but only " +
                                             std::to_string(node.env.devices.size()) + " are visible"};
        return finish();
      }
      chosen.push_back(*found);
    }
  } else {
    chosen = node.env.devices;
  }

  node.gpus.resize(chosen.size());
  std::vector<std::thread> threads;
  threads.reserve(chosen.size());
  for (size_t i = 0; i < chosen.size(); ++i) {
    threads.emplace_back([&, i] {
      const double t0 = now_ms();
      try {
        node.gpus[i] = backend.measure_gpu(chosen[i], plan);
      } catch (const std::exception& ex) {
        node.gpus[i].device = chosen[i];
        node.gpus[i].fatal_error = std::string("probe aborted: ") + ex.what();
      } catch (...) {
        node.gpus[i].device = chosen[i];
        node.gpus[i].fatal_error = "probe aborted by an unknown exception";
      }
      node.gpus[i].duration_ms = now_ms() - t0;
    });
  }
  for (auto& t : threads) t.join();

  if (chosen.size() >= 2) {
    try {
      node.peers = backend.measure_peers(chosen, plan);
    } catch (const std::exception& ex) {
      PeerResult p;
      p.src = chosen[0].index;
      p.dst = chosen[1].index;
      p.error = std::string("peer-to-peer phase aborted: ") + ex.what();
      node.peers.push_back(p);
    }
  }
  return finish();
}

std::optional<int> effective_expected_gpus(const ProbeOptions& options, const EnvironmentInfo& env) {
  if (options.expect_gpus) return options.expect_gpus;
  if (has(options.injections, Injection::kMissingGpu) && env.devices_seen_by_driver > 0) {
    return env.devices_seen_by_driver;
  }
  return std::nullopt;
}

}  // namespace fleet::gpuprobe
