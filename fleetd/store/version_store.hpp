#pragma once
// The version catalog (migrations/0008_versions.sql, rollout/version_catalog.hpp): Kubernetes versions and node
// images per provider. Filled from the shipped catalog when empty; admins add and retire entries; the planner reads
// the whole catalog with load_catalog. Entries are never deleted.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rollout/version_catalog.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

struct VersionRecord {
  rollout::CatalogEntry entry;
  std::string created_by;  // "fleetd" for the shipped catalog
  std::int64_t resource_version = 0;
  std::string created_at, updated_at;  // RFC 3339
};

struct VersionFilter {
  std::optional<rollout::EntryKind> kind;
  std::string provider;   // empty: any
  std::string os_family;  // empty: any
  bool include_retired = false;
};

// What seed_if_empty writes as created_by.
inline constexpr const char* kShippedCatalogActor = "fleetd";

// Every entry that matches, at most rollout::kMaxCatalogEntries, in the catalog's order: by provider, Kubernetes
// versions before node images, Kubernetes versions newest first (as numbers), node images by OS family, newest
// release first.
std::vector<VersionRecord> list_versions(pqxx::transaction_base& txn, const VersionFilter& filter);
std::optional<VersionRecord> get_version(pqxx::transaction_base& txn, std::string_view provider,
                                         std::string_view version);
// The row locked FOR UPDATE, for a change that depends on its state.
std::optional<VersionRecord> lock_version(pqxx::transaction_base& txn, std::string_view provider,
                                          std::string_view version);
// nullopt when (provider, version) is taken.
std::optional<VersionRecord> insert_version(pqxx::transaction_base& txn, const rollout::CatalogEntry& entry,
                                            std::string_view created_by);
// Marks the entry retired and bumps its version; nullopt when there is no such entry.
std::optional<VersionRecord> retire_version(pqxx::transaction_base& txn, std::string_view provider,
                                            std::string_view version);
std::int64_t count_versions(pqxx::transaction_base& txn);

// The whole catalog, retired entries included (the planner must see them to say why it will not use one).
rollout::VersionCatalog load_catalog(pqxx::transaction_base& txn);

// When the table has no rows: loads the shipped catalog (rollout/shipped_catalog.hpp) and returns how many entries
// it wrote (0 when there were rows already). Safe for replicas starting together: a row another one wrote first is
// skipped. kInternal when the shipped catalog does not parse (a build that should not have passed its tests).
Result<std::size_t> seed_if_empty(pqxx::transaction_base& txn);

}  // namespace fleet::store
