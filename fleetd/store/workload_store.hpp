#pragma once
// Workloads (migrations/0010_workloads.sql, DESIGN §7): what people ask to run, as /v1/workloads writes it. The
// spec is stored as placement::to_json (without manifests) and the manifests beside it; `generation` counts
// changes to either, so the placement loop can tell a decision for an older generation. The loop owns
// workload_placements and workload_bindings; deletion reads the bindings only to know whether agents still have
// something to remove. Functions run inside the caller's transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "placement/workload_json.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

struct StoredWorkload {
  std::string id;  // uuid
  placement::WorkloadDocument document;
  std::int64_t generation = 1;
  std::int64_t resource_version = 0;
  std::string state;                                 // Pending | Placed | PartiallyPlaced | Unplaceable | Deleting
  std::optional<std::string> deletion_requested_at;  // RFC 3339
  std::string created_at, updated_at;                // RFC 3339
};

// nullopt when the name is taken.
std::optional<StoredWorkload> insert_workload(pqxx::transaction_base& txn, const placement::WorkloadDocument& doc);
std::optional<StoredWorkload> get_workload(pqxx::transaction_base& txn, std::string_view name);
// Without reading the spec and manifests (up to 256 KiB): for reads of what hangs off a workload.
bool workload_exists(pqxx::transaction_base& txn, std::string_view name);
// The row locked FOR UPDATE: replace and deletion decide on what they read.
std::optional<StoredWorkload> lock_workload(pqxx::transaction_base& txn, std::string_view name);

struct WorkloadPage {
  std::vector<StoredWorkload> items;
  bool more = false;  // another page follows the last item
};
// By name, those after `after_name` ("" for the first page), at most `limit`.
WorkloadPage list_workloads(pqxx::transaction_base& txn, const std::string& after_name, int limit);

// Replaces the spec and manifests of `current` (locked by lock_workload): bumps generation and resourceVersion
// when they differ, and returns `current` as it is when they do not (nothing written).
StoredWorkload replace_workload(pqxx::transaction_base& txn, const StoredWorkload& current,
                                const placement::WorkloadDocument& doc);

enum class WorkloadDeletionOutcome {
  kDeleted,   // it had no bindings: the row is gone
  kDeleting,  // agents still run it: state Deleting, the placement loop removes the bindings and then the row
};
struct WorkloadDeletion {
  WorkloadDeletionOutcome outcome = WorkloadDeletionOutcome::kDeleted;
  StoredWorkload record;  // the row as deleted, or as it is now
};
// For `current`, locked by lock_workload. Asking again while Deleting changes nothing.
WorkloadDeletion request_workload_deletion(pqxx::transaction_base& txn, const StoredWorkload& current);

}  // namespace fleet::store
