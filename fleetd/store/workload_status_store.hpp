#pragma once
// The agents' read-back workload states (protocol/workload_status.hpp, migrations/0017_workload_status_reports.sql):
// the latest per (cluster, workload). The heartbeat handler writes them; the placement loop reads them with the
// bindings (placement_store.hpp applied_bindings).
#include <string_view>
#include <vector>

#include <pqxx/pqxx>

#include "common/clock.hpp"
#include "protocol/workload_status.hpp"

namespace fleet::store {

// Upserts each report; a report of an older generation than the stored one is dropped (a resent heartbeat), and
// so is one for a cluster or workload that does not exist or a generation the workload has not reached (a late
// report of a deleted workload must not pass for a new one of the same name).
void save_workload_statuses(pqxx::transaction_base& txn, std::string_view cluster,
                            const std::vector<protocol::WorkloadStatus>& statuses, Clock::WallTime reported_at);

}  // namespace fleet::store
