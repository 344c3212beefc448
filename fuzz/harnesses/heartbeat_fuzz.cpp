// The heartbeat envelope and the inventory (full or delta) it carries, as fleetd reads them from an agent: the
// body's JSON rules, the envelope decoder, then the application to a stored inventory, both as a replica's cache
// (kNext) and as the database (kAfterStored) do it.
#include <optional>

#include "api/json_body.hpp"
#include "fuzz/fuzz_target.hpp"
#include "protocol/heartbeat.hpp"

namespace {

fleet::protocol::StoredInventory stored_base() {
  using namespace fleet;
  model::NodeInfo node;
  node.name = "gpu-node-1";
  node.pool = "gpu";
  node.capacity.cpu_millicores = 96000;
  node.allocatable.cpu_millicores = 95000;
  model::GpuInfo gpu;
  gpu.uuid = "GPU-0";
  gpu.model = "NVIDIA H100 80GB HBM3";
  gpu.memory_bytes = 85520809984;
  node.gpus.push_back(gpu);
  protocol::StoredInventory stored;
  stored.sequence = 3;
  stored.inventory.nodes.push_back(node);
  return stored;
}

}  // namespace

FLEET_FUZZ_HARNESS(heartbeat) {
  using namespace fleet;
  http::Request request;
  request.headers["content-type"] = "application/json";
  request.body = std::string(data);
  auto body = api::parse_json_body(request, {"application/json"}, protocol::kMaxHeartbeatBytes);
  if (!body) return;
  auto envelope = protocol::heartbeat_from_json(*body);
  if (!envelope) return;
  // What was accepted encodes and decodes again (a replica forwards and logs envelopes in this form).
  auto again = protocol::heartbeat_from_json(protocol::to_json(*envelope));
  FUZZ_CHECK(again.ok());
  static const protocol::StoredInventory base = stored_base();
  for (auto check : {protocol::SequenceCheck::kNext, protocol::SequenceCheck::kAfterStored}) {
    (void)protocol::apply_heartbeat(std::nullopt, *envelope, check);
    auto outcome = protocol::apply_heartbeat(base, *envelope, check);
    if (outcome && std::holds_alternative<protocol::HeartbeatApplied>(*outcome)) {
      // What is stored after an applied heartbeat is a valid inventory: it encodes and decodes unchanged.
      const auto& stored = std::get<protocol::HeartbeatApplied>(*outcome).stored.inventory;
      auto reread = model::inventory_from_json(model::to_json(stored));
      FUZZ_CHECK(reread.ok());
      FUZZ_CHECK(*reread == stored);
    }
  }
}
