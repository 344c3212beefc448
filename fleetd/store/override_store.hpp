#pragma once
// Overrides (migrations/0015_overrides.sql, issue #15 item 2): per-cluster JSON patches of workloads' manifests,
// as /v1/overrides writes them, and what the placement loop reads of them. A write also moves the generation of
// every workload the override names (before and after the write): the loop then decides those workloads again and
// re-applies the bindings whose record of applied overrides no longer matches. Functions run inside the caller's
// transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "placement/override.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

struct StoredOverride {
  std::string id;  // uuid
  placement::Override value;
  std::int64_t generation = 1;
  std::int64_t resource_version = 0;
  std::string created_at, updated_at;  // RFC 3339
};

// nullopt when the name is taken.
std::optional<StoredOverride> insert_override(pqxx::transaction_base& txn, const placement::Override& o);
std::optional<StoredOverride> get_override(pqxx::transaction_base& txn, std::string_view name);
// The row locked FOR UPDATE: replace and delete decide on what they read.
std::optional<StoredOverride> lock_override(pqxx::transaction_base& txn, std::string_view name);

struct OverridePage {
  std::vector<StoredOverride> items;
  bool more = false;  // another page follows the last item
};
// By name, those after `after_name` ("" for the first page), at most `limit`; with `workload` not empty, only the
// overrides that name it.
OverridePage list_overrides(pqxx::transaction_base& txn, const std::string& after_name, int limit,
                            const std::string& workload);

// Replaces the spec of `current` (locked): bumps generation and resourceVersion when it differs, and returns
// `current` as it is when it does not (nothing written).
StoredOverride replace_override(pqxx::transaction_base& txn, const StoredOverride& current,
                                const placement::Override& o);
// Deletes `current` (locked).
void delete_override(pqxx::transaction_base& txn, const StoredOverride& current);

// Every override that names one of `workloads` (the placement loop's round), by name.
std::vector<StoredOverride> overrides_for_workloads(pqxx::transaction_base& txn,
                                                    const std::vector<std::string>& workloads);

}  // namespace fleet::store
