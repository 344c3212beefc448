// The heartbeat cache: unchanged deltas are answered in memory, changes need a compare-and-set write, and every
// doubt (no entry, a gap, a stale generation) falls back to the database or a resync.
#include "fleetd/gateway/heartbeat_cache.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "common/testing/manual_clock.hpp"
#include "fleetd/gateway/liveness_recorder.hpp"
#include "model/testing/inventories.hpp"
#include "protocol/heartbeat_sender.hpp"

namespace fleet {
namespace {

model::ClusterInventory inventory() {
  return model::testing::gpu_inventory(4, 8, "aks-cache-1");
}

// An empty delta numbered `sequence`.
protocol::HeartbeatEnvelope delta_after(std::uint64_t previous) {
  protocol::HeartbeatEnvelope e;
  e.agent_version = "1.0";
  e.sequence = previous + 1;
  e.delta = protocol::InventoryDelta{};
  return e;
}

// What fleetd holds after the agent's first (full) heartbeat was written with generation 1.
struct Primed {
  testing::ManualClock clock;
  HeartbeatCache cache{clock};
  protocol::HeartbeatSender sender{"1.0"};
  explicit Primed(const model::ClusterInventory& inv) {
    auto first = sender.next(inv);
    REQUIRE(first.full);
    auto applied = protocol::apply_heartbeat(std::nullopt, first);
    REQUIRE(applied.ok());
    cache.put("aks-cache-1", {std::get<protocol::HeartbeatApplied>(*applied).stored, 1, "1.0"});
  }
};

}  // namespace

TEST_CASE("an unchanged delta is answered from the cache with no write", "[fleetd][heartbeat-cache]") {
  auto inv = inventory();
  Primed p(inv);
  auto& cache = p.cache;
  auto& sender = p.sender;
  for (int i = 0; i < 5; ++i) {
    auto outcome = cache.apply_delta("aks-cache-1", sender.next(inv));
    auto* d = std::get_if<HeartbeatCache::DeltaApplied>(&outcome);
    REQUIRE(d);
    CHECK_FALSE(d->needs_write);
    CHECK(d->generation == 1);
    CHECK(d->sequence == static_cast<std::uint64_t>(i + 2));
    CHECK_FALSE(d->applied);
  }
  CHECK(cache.size() == 1);
}

TEST_CASE("a changed delta needs a write at the cached generation and put() keeps the newest",
          "[fleetd][heartbeat-cache]") {
  auto inv = inventory();
  Primed p(inv);
  auto& cache = p.cache;
  auto& sender = p.sender;
  inv.nodes[0].schedulable = false;
  auto outcome = cache.apply_delta("aks-cache-1", sender.next(inv));
  auto* d = std::get_if<HeartbeatCache::DeltaApplied>(&outcome);
  REQUIRE(d);
  CHECK(d->needs_write);
  CHECK(d->generation == 1);
  REQUIRE(d->applied);
  CHECK(d->applied->changes.changed.size() == 1);
  // Until the write is stored, the cache still holds the old base: a retry of the same delta is not a gap.
  cache.put("aks-cache-1", {d->applied->stored, 2, "1.0"});
  cache.put("aks-cache-1", {d->applied->stored, 1, "1.0"});  // an older write finishing late changes nothing
  auto next = cache.apply_delta("aks-cache-1", sender.next(inv));
  auto* n = std::get_if<HeartbeatCache::DeltaApplied>(&next);
  REQUIRE(n);
  CHECK(n->generation == 2);
  CHECK_FALSE(n->needs_write);
}

TEST_CASE("a delta whose entries change nothing moves only the sequence", "[fleetd][heartbeat-cache]") {
  auto inv = inventory();
  Primed p(inv);
  auto env = p.sender.next(inv);
  REQUIRE(env.delta);
  REQUIRE(env.delta->empty());
  // A sender may repeat a node as it is (fleetd re-diffs rather than trusting the delta).
  protocol::NodeChange same;
  same.name = inv.nodes[0].name;
  same.schedulable = inv.nodes[0].schedulable;
  env.delta->changed.push_back(same);
  auto outcome = p.cache.apply_delta("aks-cache-1", env);
  auto* d = std::get_if<HeartbeatCache::DeltaApplied>(&outcome);
  REQUIRE(d);
  CHECK_FALSE(d->needs_write);
  CHECK(d->sequence == 2);
  // The cache moved to sequence 2: the next empty delta (3) follows it.
  auto next = p.cache.apply_delta("aks-cache-1", p.sender.next(inv));
  auto* n = std::get_if<HeartbeatCache::DeltaApplied>(&next);
  REQUIRE(n);
  CHECK(n->sequence == 3);
}

TEST_CASE("heartbeats of many clusters from many threads keep each cluster's sequence", "[fleetd][heartbeat-cache]") {
  auto inv = inventory();
  testing::ManualClock clock;
  HeartbeatCache cache(clock);
  constexpr int kClusters = 16;
  constexpr int kBeats = 200;
  std::vector<protocol::HeartbeatSender> senders(kClusters, protocol::HeartbeatSender("1.0"));
  for (int c = 0; c < kClusters; ++c) {
    auto first = senders[c].next(inv);
    auto applied = protocol::apply_heartbeat(std::nullopt, first);
    REQUIRE(applied.ok());
    cache.put("c" + std::to_string(c), {std::get<protocol::HeartbeatApplied>(*applied).stored, 1, "1.0"});
  }
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClusters; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < kBeats; ++i) {
        auto outcome = cache.apply_delta("c" + std::to_string(c), senders[c].next(inv));
        auto* d = std::get_if<HeartbeatCache::DeltaApplied>(&outcome);
        if (!d || d->needs_write || d->sequence != static_cast<std::uint64_t>(i + 2)) ++unexpected;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(unexpected == 0);
  CHECK(cache.size() == kClusters);
}

TEST_CASE("no entry, a gap or a new agent version leave the fast path", "[fleetd][heartbeat-cache]") {
  auto inv = inventory();
  Primed p(inv);
  auto& cache = p.cache;
  auto& sender = p.sender;
  CHECK(std::holds_alternative<HeartbeatCache::NoEntry>(cache.apply_delta("other-cluster", sender.next(inv))));

  auto skipped = sender.next(inv);
  auto gap = sender.next(inv);  // `skipped` never arrives
  (void)skipped;
  auto outcome = cache.apply_delta("aks-cache-1", gap);
  CHECK(std::holds_alternative<protocol::ResyncNeeded>(outcome));
  // The entry is gone: the full inventory that follows goes through the database. Until it is written, every
  // delta gets the same answer, even one that would follow (the database path would accept it).
  CHECK(cache.size() == 0);
  auto after = gap;
  after.sequence += 1;
  CHECK(std::holds_alternative<protocol::ResyncNeeded>(cache.apply_delta("aks-cache-1", after)));
  sender.request_full();
  auto full = sender.next(inv);
  auto rewritten = protocol::apply_heartbeat(std::nullopt, full);
  REQUIRE(rewritten.ok());
  cache.put("aks-cache-1", {std::get<protocol::HeartbeatApplied>(*rewritten).stored, 2, "1.0"});
  auto resumed = cache.apply_delta("aks-cache-1", sender.next(inv));
  auto* r = std::get_if<HeartbeatCache::DeltaApplied>(&resumed);
  REQUIRE(r);
  CHECK_FALSE(r->needs_write);

  Primed p2(inv);
  auto& cache2 = p2.cache;
  auto& sender2 = p2.sender;
  auto env = sender2.next(inv);
  env.agent_version = "2.0";
  auto v = cache2.apply_delta("aks-cache-1", env);
  auto* d = std::get_if<HeartbeatCache::DeltaApplied>(&v);
  REQUIRE(d);
  CHECK(d->needs_write);  // the agent version is stored
}

TEST_CASE("a warm-start entry takes any later sequence once, then exactly the next", "[fleetd][heartbeat-cache]") {
  auto inv = inventory();
  protocol::HeartbeatSender sender("1.0");
  auto first = sender.next(inv);
  auto applied = protocol::apply_heartbeat(std::nullopt, first);
  REQUIRE(applied.ok());
  testing::ManualClock clock;
  HeartbeatCache cache(clock);
  // The database holds sequence 1; the agent had 2..4 acknowledged by the previous process, unwritten.
  cache.prime("aks-cache-1", 1, 1, "1.0");
  for (int i = 0; i < 3; ++i) (void)sender.next(inv);
  auto fifth = cache.apply_delta("aks-cache-1", sender.next(inv));
  auto* d = std::get_if<HeartbeatCache::DeltaApplied>(&fifth);
  REQUIRE(d);
  CHECK_FALSE(d->needs_write);
  CHECK(d->sequence == 5);
  // A change needs the inventory, which a warm start does not load: the database path decides.
  inv.nodes[0].schedulable = false;
  auto changed = cache.apply_delta("aks-cache-1", sender.next(inv));
  CHECK(std::holds_alternative<HeartbeatCache::NoEntry>(changed));
  // Exact from now on: a skipped sequence is a gap again.
  HeartbeatCache exact(clock);
  exact.prime("c", 1, 1, "1.0");
  CHECK(std::holds_alternative<HeartbeatCache::DeltaApplied>(exact.apply_delta("c", delta_after(3))));
  CHECK(std::holds_alternative<protocol::ResyncNeeded>(exact.apply_delta("c", delta_after(5))));
  // A primed entry never replaces one from a heartbeat.
  HeartbeatCache other(clock);
  other.put("c", {std::get<protocol::HeartbeatApplied>(*applied).stored, 7, "1.0"});
  other.prime("c", 1, 3, "1.0");
  auto next = other.apply_delta("c", delta_after(1));
  auto* n = std::get_if<HeartbeatCache::DeltaApplied>(&next);
  REQUIRE(n);
  CHECK(n->generation == 7);
}

TEST_CASE("primed credentials expire between half the TTL and the TTL", "[fleetd][heartbeat-cache]") {
  testing::ManualClock clock;
  HeartbeatCache cache(clock, std::chrono::milliseconds(200));
  const auto epoch = cache.credential_epoch();
  for (int i = 0; i < 50; ++i) cache.prime_credential("h" + std::to_string(i), "c" + std::to_string(i), epoch);
  auto known = [&] {
    int n = 0;
    for (int i = 0; i < 50; ++i) n += cache.credential_owner("h" + std::to_string(i)) ? 1 : 0;
    return n;
  };
  clock.advance(std::chrono::milliseconds(99));
  CHECK(known() == 50);
  clock.advance(std::chrono::milliseconds(60));
  const int spread = known();  // some expired at 100-159 ms, not all: the spread is by hash
  CHECK(spread > 0);
  CHECK(spread < 50);
  clock.advance(std::chrono::milliseconds(41));
  CHECK(known() == 0);
}

TEST_CASE("remembered credentials expire", "[fleetd][heartbeat-cache]") {
  testing::ManualClock clock;
  HeartbeatCache cache(clock, std::chrono::milliseconds(50));
  CHECK_FALSE(cache.credential_owner("h1"));
  cache.remember_credential("h1", "aks-1", cache.credential_epoch());
  clock.advance(std::chrono::milliseconds(49));
  CHECK(cache.credential_owner("h1") == std::optional<std::string>("aks-1"));
  clock.advance(std::chrono::milliseconds(1));
  CHECK_FALSE(cache.credential_owner("h1"));
}

// Issue #10: a credential replaced by a registration, revoked, or of a deleted cluster must not keep working for
// the TTL. The old cache kept it for 60 s.
TEST_CASE("a forgotten credential is unknown at once, and a lookup that raced the forget is not remembered",
          "[fleetd][heartbeat-cache]") {
  testing::ManualClock clock;
  HeartbeatCache cache(clock);  // the default 60 s TTL: nothing here expires
  const auto epoch = cache.credential_epoch();
  cache.remember_credential("old", "aks-1", epoch);
  cache.prime_credential("other", "aks-2", epoch);
  REQUIRE(cache.credential_owner("old") == std::optional<std::string>("aks-1"));

  cache.forget_credential("old");
  CHECK_FALSE(cache.credential_owner("old"));
  CHECK(cache.credential_owner("other") == std::optional<std::string>("aks-2"));  // only that one

  // A database read made before the forget (the epoch read then) may have seen the credential still valid: its
  // answer is dropped, by remember and by a warm start's prime alike. A read after the forget is kept.
  cache.remember_credential("old", "aks-1", epoch);
  cache.prime_credential("old", "aks-1", epoch);
  CHECK_FALSE(cache.credential_owner("old"));
  const auto after = cache.credential_epoch();
  CHECK(after != epoch);
  cache.remember_credential("new", "aks-1", after);
  CHECK(cache.credential_owner("new") == std::optional<std::string>("aks-1"));

  // After a lost LISTEN connection every credential is forgotten.
  cache.forget_all_credentials();
  CHECK_FALSE(cache.credential_owner("new"));
  CHECK_FALSE(cache.credential_owner("other"));
  cache.remember_credential("new", "aks-1", after);
  CHECK_FALSE(cache.credential_owner("new"));
}

TEST_CASE("liveness writes follow the unreachable limit, not the heartbeat rate", "[fleetd][heartbeat-cache]") {
  using std::chrono::seconds;
  CHECK(liveness_persist_every(seconds(10), seconds(30)) == std::chrono::milliseconds(18000));
  CHECK(liveness_persist_every(seconds(5), seconds(30)) == std::chrono::milliseconds(23000));
  CHECK(liveness_persist_every(seconds(1), seconds(3)) == std::chrono::milliseconds(0));
  CHECK(liveness_persist_every(seconds(10), seconds(10)) == std::chrono::milliseconds(0));
}

TEST_CASE("a credential the database did not know is remembered as unknown for a few seconds, within a bound",
          "[fleetd][heartbeat-cache]") {
  testing::ManualClock clock;
  HeartbeatCache cache{clock, std::chrono::seconds(60), 1000, std::chrono::seconds(5)};
  CHECK_FALSE(cache.known_unknown_credential("h1"));
  cache.remember_unknown_credential("h1");
  CHECK(cache.known_unknown_credential("h1"));
  CHECK_FALSE(cache.known_unknown_credential("h2"));
  CHECK_FALSE(cache.credential_owner("h1"));  // the two tables are separate
  clock.advance(std::chrono::milliseconds(4999));
  CHECK(cache.known_unknown_credential("h1"));
  clock.advance(std::chrono::milliseconds(1));
  CHECK_FALSE(cache.known_unknown_credential("h1"));
  // A flood of distinct credentials starts the table over instead of growing it.
  for (int i = 0; i < 10'001; ++i) cache.remember_unknown_credential("flood-" + std::to_string(i));
  CHECK(cache.known_unknown_credential("flood-10000"));
  CHECK_FALSE(cache.known_unknown_credential("flood-0"));
}

}  // namespace fleet
