#include "protocol/inventory_delta.hpp"
#include "protocol/heartbeat.hpp"
#include "protocol/heartbeat_sender.hpp"

#include <catch2/catch.hpp>

#include "model/testing/inventories.hpp"

namespace fleet::protocol {
namespace {

using nlohmann::json;

model::ClusterInventory small_inventory() {
  SplitMix64 rng(3);
  model::ClusterInventory inv;
  inv.kubernetes_version = "1.31.4";
  inv.node_image_version = "img-1";
  for (const char* name : {"a", "b", "c"}) inv.nodes.push_back(model::testing::random_node(rng, name));
  return inv;
}

// Builders instead of designated initializers that skip members (-Wextra warns about those).
template <class F>
NodeChange change(std::string name, F set) {
  NodeChange c;
  c.name = std::move(name);
  set(c);
  return c;
}

HeartbeatEnvelope delta_beat(std::uint64_t sequence, InventoryDelta delta) {
  HeartbeatEnvelope e;
  e.agent_version = "0.1.0";
  e.sequence = sequence;
  e.full = false;
  e.delta = std::move(delta);
  return e;
}

HeartbeatApplied applied(const Result<HeartbeatOutcome>& r) {
  REQUIRE(r.ok());
  REQUIRE(std::holds_alternative<HeartbeatApplied>(*r));
  return std::get<HeartbeatApplied>(*r);
}

std::string resync(const Result<HeartbeatOutcome>& r) {
  REQUIRE(r.ok());
  REQUIRE(std::holds_alternative<ResyncNeeded>(*r));
  return std::get<ResyncNeeded>(*r).reason;
}

TEST_CASE("apply(diff(a, b), a) == b for seeded random inventories", "[protocol]") {
  SplitMix64 rng(20251001);
  for (int i = 0; i < 500; ++i) {
    model::ClusterInventory a = model::testing::random_inventory(rng);
    // Half the pairs are unrelated, half are small mutations (what heartbeats see).
    model::ClusterInventory b =
        rng.chance(0.5) ? model::testing::random_inventory(rng) : model::testing::mutate(rng, a);
    InventoryDelta d = diff_inventory(a, b);
    CHECK(d.empty() == (a == b));
    auto result = apply_delta(a, d);
    REQUIRE(result.ok());
    CHECK(*result == b);
    // The wire form carries the same delta.
    auto wire = delta_from_json(json::parse(to_json(d).dump()));
    REQUIRE(wire.ok());
    CHECK(*wire == d);
    auto back = apply_delta(b, diff_inventory(b, a));
    REQUIRE(back.ok());
    CHECK(*back == a);
  }
}

TEST_CASE("a delta carries only what changed", "[protocol]") {
  model::ClusterInventory a = small_inventory();
  model::ClusterInventory b = a;
  b.nodes[1].schedulable = !b.nodes[1].schedulable;
  b.nodes[2].labels["x"] = "y";
  InventoryDelta d = diff_inventory(a, b);
  CHECK_FALSE(d.kubernetes_version.has_value());
  CHECK(d.added.empty());
  CHECK(d.removed.empty());
  REQUIRE(d.changed.size() == 2);
  CHECK(d.changed[0] == change("b", [&](NodeChange& c) { c.schedulable = b.nodes[1].schedulable; }));
  CHECK(d.changed[1] == change("c", [&](NodeChange& c) { c.labels = b.nodes[2].labels; }));
  json j = to_json(d.changed[0]);
  CHECK(j == json{{"name", "b"}, {"schedulable", b.nodes[1].schedulable}});

  CHECK(diff_inventory(a, a).empty());
  b = a;
  b.kubernetes_version = "1.32.7";
  d = diff_inventory(a, b);
  CHECK(d.kubernetes_version == "1.32.7");
  CHECK(d.changed.empty());
}

TEST_CASE("a delta carries a node's allocation like its capacity", "[protocol][inventory]") {
  model::ClusterInventory a = model::testing::gpu_inventory(2, 8);
  model::ClusterInventory b = a;
  b.nodes[1].allocated = model::ResourceList{16000, std::int64_t{64} << 30, 4};
  InventoryDelta d = diff_inventory(a, b);
  REQUIRE(d.changed.size() == 1);
  CHECK(d.changed[0] == change("gpu-1", [&](NodeChange& c) { c.allocated = b.nodes[1].allocated; }));
  CHECK(to_json(d.changed[0]) ==
        json{{"name", "gpu-1"},
             {"allocated", {{"cpuMillicores", 16000}, {"memoryBytes", std::int64_t{64} << 30}, {"gpus", 4}}}});
  auto wire = delta_from_json(json::parse(to_json(d).dump()));
  REQUIRE(wire.ok());
  CHECK(*wire == d);
  auto applied = apply_delta(a, *wire);
  REQUIRE(applied.ok());
  CHECK(*applied == b);
  CHECK(apply_delta(b, diff_inventory(b, a)).value() == a);  // released again

  // An allocation over capacity is invalid, whichever way it arrives.
  InventoryDelta over;
  over.changed = {change("gpu-0", [](NodeChange& c) { c.allocated = model::ResourceList{0, 0, 9}; })};
  auto invalid = apply_delta(a, over);
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().code == ErrorCode::kInvalid);
  CHECK(invalid.error().field == "nodes[0].allocated.gpus");
  auto bad_wire =
      delta_from_json(json{{"changed", {{{"name", "a"}, {"allocated", {{"cpuMillicores", -1}}}}}}}, "delta");
  REQUIRE_FALSE(bad_wire.ok());
  CHECK(bad_wire.error().field == "delta.changed[0].allocated.cpuMillicores");
}

TEST_CASE("a delta that does not fit its base is out of sync", "[protocol]") {
  model::ClusterInventory a = small_inventory();
  InventoryDelta remove_missing;
  remove_missing.removed = {"zz"};
  auto r = apply_delta(a, remove_missing);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kConflict);
  CHECK(r.error().type == "inventory-out-of-sync");
  CHECK(r.error().field == "delta.removed[0]");

  InventoryDelta change_missing;
  change_missing.changed = {change("zz", [](NodeChange& c) { c.schedulable = false; })};
  CHECK(apply_delta(a, change_missing).error().code == ErrorCode::kConflict);

  InventoryDelta add_existing;
  add_existing.added = {a.nodes[0]};
  CHECK(apply_delta(a, add_existing).error().code == ErrorCode::kConflict);

  // Removing and re-adding a node (a reimage under the same name) fits.
  InventoryDelta readd;
  readd.removed = {"a"};
  readd.added = {a.nodes[0]};
  readd.added[0].schedulable = !a.nodes[0].schedulable;
  auto ok = apply_delta(a, readd);
  REQUIRE(ok.ok());
  CHECK(ok->nodes[0].schedulable == !a.nodes[0].schedulable);

  // A change that breaks a node rule is invalid, not out of sync: a resync would not cure it.
  InventoryDelta bad;
  bad.changed = {change("a", [](NodeChange& c) {
    c.allocatable = model::ResourceList{model::kMaxCpuMillicores, 0, 0};
  })};
  auto invalid = apply_delta(a, bad);
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().code == ErrorCode::kInvalid);
}

TEST_CASE("delta JSON validation names the field", "[protocol]") {
  auto e = delta_from_json(json{{"changed", {{{"name", "a"}, {"admission", "nope"}}}}}, "delta");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().field == "delta.changed[0].admission");
  e = delta_from_json(json{{"removed", {"Bad_Name"}}}, "delta");
  CHECK(e.error().field == "delta.removed[0]");
  e = delta_from_json(json{{"added", {{{"name", "x"}}}}}, "delta");
  CHECK(e.error().field == "delta.added[0].pool");
  e = delta_from_json(json{{"changed", {{{"name", "a"}, {"gpus", json::array({json::object()})}}}}}, "delta");
  CHECK(e.error().field == "delta.changed[0].gpus[0].index");
  CHECK(delta_from_json(json{{"later", true}}, "delta").ok());  // unknown members are ignored
}

TEST_CASE("heartbeat envelopes round-trip and are validated", "[protocol]") {
  model::ClusterInventory inv = small_inventory();
  HeartbeatSender sender("0.1.0");
  HeartbeatEnvelope full = sender.next(inv);
  CHECK(full.full);
  CHECK(full.sequence == 1);
  auto back = heartbeat_from_json(json::parse(to_json(full).dump()));
  REQUIRE(back.ok());
  CHECK(*back == full);
  inv.nodes[0].schedulable = !inv.nodes[0].schedulable;
  HeartbeatEnvelope delta = sender.next(inv);
  CHECK_FALSE(delta.full);
  CHECK(delta.sequence == 2);
  REQUIRE(delta.delta.has_value());
  CHECK(delta.delta->changed.size() == 1);
  back = heartbeat_from_json(to_json(delta));
  REQUIRE(back.ok());
  CHECK(*back == delta);

  json j = to_json(full);
  j.erase("inventory");
  CHECK(heartbeat_from_json(j).error().field == "inventory");
  j = to_json(full);
  j["delta"] = json::object();
  CHECK(heartbeat_from_json(j).error().field == "delta");
  j = to_json(delta);
  j["sequence"] = -1;
  CHECK(heartbeat_from_json(j).error().field == "sequence");
  // Stored as a PostgreSQL bigint: above 2^63 - 1 it would wrap to a negative number (#10).
  j["sequence"] = std::uint64_t{1} << 63;
  CHECK(heartbeat_from_json(j).error().field == "sequence");
  j["sequence"] = (std::uint64_t{1} << 63) - 1;
  CHECK(heartbeat_from_json(j).ok());
  j = to_json(delta);
  j.erase("full");
  CHECK(heartbeat_from_json(j).error().field == "full");
  j = to_json(delta);
  j["agentVersion"] = "";
  CHECK(heartbeat_from_json(j).error().field == "agentVersion");
  j = to_json(full);
  j["inventory"]["nodes"][0]["pool"] = "";
  CHECK(heartbeat_from_json(j).error().field == "inventory.nodes[0].pool");
}

TEST_CASE("apply_heartbeat: full, in-order deltas, gaps and misfits", "[protocol]") {
  model::ClusterInventory inv = small_inventory();
  HeartbeatSender sender("0.1.0");
  HeartbeatEnvelope first = sender.next(inv);

  SECTION("a delta with nothing stored asks for a resync") {
    HeartbeatEnvelope d = delta_beat(1, InventoryDelta{});
    CHECK(resync(apply_heartbeat(std::nullopt, d)).find("no inventory") != std::string::npos);
  }
  SECTION("a full heartbeat on an empty store reports everything as new") {
    HeartbeatApplied a = applied(apply_heartbeat(std::nullopt, first));
    CHECK(a.stored.sequence == 1);
    CHECK(a.stored.inventory == inv);
    CHECK(a.changes.added.size() == 3);
    CHECK(a.changes.kubernetes_version == "1.31.4");
  }
  SECTION("deltas in order apply; fleetd gets only the changes") {
    StoredInventory stored = applied(apply_heartbeat(std::nullopt, first)).stored;
    inv.nodes[2].admission = model::Admission::kQuarantined;
    HeartbeatApplied a = applied(apply_heartbeat(stored, sender.next(inv)));
    CHECK(a.stored.sequence == 2);
    CHECK(a.stored.inventory == inv);
    REQUIRE(a.changes.changed.size() == 1);
    CHECK(a.changes.changed[0] == change("c", [](NodeChange& c) { c.admission = model::Admission::kQuarantined; }));
    // An empty delta is a liveness beat: it applies and changes nothing.
    HeartbeatApplied b = applied(apply_heartbeat(a.stored, sender.next(inv)));
    CHECK(b.stored.sequence == 3);
    CHECK(b.changes.empty());
  }
  SECTION("a gap or a repeat asks for a resync, then a full heartbeat recovers") {
    StoredInventory stored = applied(apply_heartbeat(std::nullopt, first)).stored;
    inv.nodes[0].labels["lost"] = "1";
    HeartbeatEnvelope lost = sender.next(inv);  // never arrives
    inv.nodes[1].labels["seen"] = "1";
    HeartbeatEnvelope next = sender.next(inv);
    CHECK(resync(apply_heartbeat(stored, next)).find("sequence 3") != std::string::npos);
    sender.request_full();
    HeartbeatEnvelope full = sender.next(inv);
    CHECK(full.full);
    HeartbeatApplied a = applied(apply_heartbeat(stored, full));
    CHECK(a.stored.inventory == inv);
    CHECK(a.stored.sequence == 4);
    CHECK(a.changes.changed.size() == 2);
    // A repeated delta (a retried request) is a gap too: sequence 4 does not follow the stored 4.
    HeartbeatEnvelope repeat = delta_beat(4, InventoryDelta{});
    CHECK_FALSE(resync(apply_heartbeat(a.stored, repeat)).empty());
    (void)lost;
  }
  SECTION("against the database's sequence any later delta applies, and an earlier or equal one does not") {
    StoredInventory stored = applied(apply_heartbeat(std::nullopt, first)).stored;  // sequence 1, as written
    for (int i = 0; i < 3; ++i) (void)sender.next(inv);  // 2..4: acknowledged, changed nothing, not written
    inv.nodes[0].schedulable = false;
    HeartbeatApplied a = applied(apply_heartbeat(stored, sender.next(inv), SequenceCheck::kAfterStored));
    CHECK(a.stored.sequence == 5);
    CHECK(a.changes.changed.size() == 1);
    CHECK(resync(apply_heartbeat(stored, delta_beat(5, InventoryDelta{}), SequenceCheck::kNext)).find("sequence 5") !=
          std::string::npos);
    CHECK_FALSE(
        resync(apply_heartbeat(a.stored, delta_beat(5, InventoryDelta{}), SequenceCheck::kAfterStored)).empty());
    CHECK_FALSE(
        resync(apply_heartbeat(a.stored, delta_beat(2, InventoryDelta{}), SequenceCheck::kAfterStored)).empty());
  }
  SECTION("a delta that does not fit the stored inventory asks for a resync") {
    StoredInventory stored = applied(apply_heartbeat(std::nullopt, first)).stored;
    InventoryDelta d;
    d.removed = {"zz"};
    HeartbeatEnvelope e = delta_beat(2, d);
    CHECK(resync(apply_heartbeat(stored, e)).find("zz") != std::string::npos);
  }
  SECTION("an agent restart starts over with a full heartbeat at sequence 1") {
    StoredInventory stored{41, inv};
    HeartbeatSender restarted("0.1.1");
    HeartbeatApplied a = applied(apply_heartbeat(stored, restarted.next(inv)));
    CHECK(a.stored.sequence == 1);
    CHECK(a.changes.empty());
  }
  SECTION("a delta that would exceed the limits is an error, not a resync") {
    StoredInventory stored = applied(apply_heartbeat(std::nullopt, first)).stored;
    InventoryDelta d;
    d.changed = {change("a", [](NodeChange& c) { c.capacity = model::ResourceList{0, 0, 0}; })};
    HeartbeatEnvelope e = delta_beat(2, d);
    auto r = apply_heartbeat(stored, e);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalid);
  }
}

TEST_CASE("sender and receiver stay in sync over seeded histories, with lost heartbeats", "[protocol]") {
  SplitMix64 rng(99);
  for (int run = 0; run < 20; ++run) {
    model::ClusterInventory truth = model::testing::random_inventory(rng, 20);
    HeartbeatSender sender("0.1.0");
    std::optional<StoredInventory> stored;
    int resyncs = 0;
    for (int beat = 0; beat < 40; ++beat) {
      if (rng.chance(0.5)) truth = model::testing::mutate(rng, truth);
      HeartbeatEnvelope e = sender.next(truth);
      if (rng.chance(0.1)) continue;  // lost on the way
      auto wire = heartbeat_from_json(json::parse(to_json(e).dump()));
      REQUIRE(wire.ok());
      auto outcome = apply_heartbeat(stored, *wire);
      REQUIRE(outcome.ok());
      if (auto* a = std::get_if<HeartbeatApplied>(&*outcome)) {
        stored = a->stored;
        CHECK(stored->inventory == truth);
      } else {
        ++resyncs;
        sender.request_full();
      }
    }
    // One more beat after any pending resync request brings fleetd level with the agent.
    auto last = apply_heartbeat(stored, sender.next(truth));
    REQUIRE(last.ok());
    if (std::holds_alternative<ResyncNeeded>(*last)) {
      sender.request_full();
      last = apply_heartbeat(stored, sender.next(truth));
    }
    CHECK(applied(last).stored.inventory == truth);
    (void)resyncs;
  }
}

}  // namespace
}  // namespace fleet::protocol
