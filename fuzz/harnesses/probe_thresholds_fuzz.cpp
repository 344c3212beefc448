// gpu-probe's --thresholds FILE: JSON overrides of the built-in SKU table.
#include "fuzz/fuzz_target.hpp"
#include "gpu-probe/core/sku_table.hpp"

FLEET_FUZZ_HARNESS(probe_thresholds) {
  using namespace fleet::gpuprobe;
  SkuTable table = SkuTable::built_in();
  auto applied = table.apply_overrides(data);
  if (!applied) return;
  // A table that took the overrides still answers every question the probe asks of it.
  for (const char* device : {"NVIDIA H100 80GB HBM3", "NVIDIA H200", "NVIDIA A100-SXM4-80GB", "NVIDIA L40S", "x"}) {
    const SkuSpec* sku = table.match(device);
    (void)table.policy_for(sku);
  }
  for (const auto& sku : table.skus()) (void)table.policy_for(table.find(sku.key));
}
