#include "fleetd/gateway/warm_start.hpp"

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "fleetd/gateway/command_notifier.hpp"
#include "fleetd/gateway/heartbeat_cache.hpp"
#include "fleetd/gateway/liveness_recorder.hpp"
#include "fleetd/store/inventory_store.hpp"

namespace fleet {
namespace {

constexpr int kPageSize = 1000;

}  // namespace

WarmStartTotals warm_start(pqxx::connection_base& conn, HeartbeatCache& cache, LivenessRecorder& liveness,
                           CommandNotifier& notifier, const Clock& clock) {
  const auto t0 = clock.steady_now();
  WarmStartTotals totals;
  const bool listening = notifier.listening();
  std::string after;
  while (true) {
    // Read before the page: a cluster notified after this (a command queued while the page is read) is not
    // marked quiet, whatever the page says.
    const CommandNotifier::Generation before = notifier.latest();
    // Likewise a credential ended while the page is read is not primed (HeartbeatCache::credential_epoch).
    const HeartbeatCache::CredentialEpoch credentials_read_at = cache.credential_epoch();
    std::vector<store::AgentSnapshot> page;
    {
      pqxx::read_transaction txn(conn);
      page = store::load_agent_page(txn, after, kPageSize);
    }
    if (page.empty()) break;
    for (auto& a : page) {
      ++totals.agents;
      if (!a.credential_hash.empty()) cache.prime_credential(a.credential_hash, a.cluster, credentials_read_at);
      if (a.last_heartbeat_epoch) {
        liveness.prime(a.cluster, Clock::WallTime(std::chrono::duration_cast<Clock::WallTime::duration>(
                                      std::chrono::duration<double>(*a.last_heartbeat_epoch))));
      }
      if (listening && !a.commands_open) {
        const auto generation = notifier.generation(a.cluster);
        if (generation <= before) {
          notifier.mark_empty(a.cluster, generation);
          ++totals.quiet_clusters;
        }
      }
      if (a.sequence > 0) {
        ++totals.inventories;
        cache.prime(a.cluster, a.sequence, a.generation, a.agent_version);
      }
    }
    after = page.back().cluster;
    if (page.size() < static_cast<std::size_t>(kPageSize)) break;
  }
  totals.took = std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - t0);
  return totals;
}

}  // namespace fleet
