#include "gpu-probe/measure/backend_factory.hpp"

namespace fleet::gpuprobe {

namespace {

class NoCudaBackend final : public MeasurementBackend {
 public:
  EnvironmentInfo enumerate(const MeasurePlan&) override {
    EnvironmentInfo env;
    env.built_with_cuda = false;
    env.could_not_run = CouldNotRun{"no-cuda-build",
                                    "gpu-probe was built without CUDA (no nvcc at build time): "
                                    "it cannot measure GPUs; rebuild with FLEET_WITH_CUDA=ON"};
    return env;
  }
  GpuMeasurements measure_gpu(const DeviceInfo& device, const MeasurePlan&) override {
    GpuMeasurements g;
    g.device = device;
    g.fatal_error = "built without CUDA";
    return g;
  }
  std::vector<PeerResult> measure_peers(const std::vector<DeviceInfo>&, const MeasurePlan&) override { return {}; }
};

}  // namespace

std::unique_ptr<MeasurementBackend> make_measurement_backend() {
  return std::make_unique<NoCudaBackend>();
}

}  // namespace fleet::gpuprobe
