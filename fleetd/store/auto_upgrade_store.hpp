#pragma once
// Auto-upgrade profiles in PostgreSQL (migrations/0022_auto_upgrade_profiles.sql, rollout/auto_upgrade.hpp): the
// profiles, and per profile the releases it acted on. A release is recorded in the transaction that creates its run
// (or as the baseline when the profile is created or changed), so a release is acted on once whatever replica or
// restart looks again.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rollout/auto_upgrade.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

struct AutoUpgradeProfileRecord {
  rollout::AutoUpgradeProfile profile;
  std::string created_by;
  std::int64_t resource_version = 0;
  std::string created_at, updated_at;      // RFC 3339
  std::string last_error, last_error_at;   // empty: none
  std::string last_release, last_rollout;  // the newest release acted on, and its run (empty: the baseline's)
};

// False when the name is taken.
bool insert_auto_upgrade_profile(pqxx::transaction_base& txn, const rollout::AutoUpgradeProfile& profile,
                                 std::string_view created_by);
// Replaces the spec (and clears the last error); nullopt when there is no such profile.
std::optional<AutoUpgradeProfileRecord> replace_auto_upgrade_profile(pqxx::transaction_base& txn,
                                                                     const rollout::AutoUpgradeProfile& profile);
// `for_update` locks the profile's row first, for a change that depends on what it reads.
std::optional<AutoUpgradeProfileRecord> get_auto_upgrade_profile(pqxx::transaction_base& txn, std::string_view name,
                                                                 bool for_update = false);
std::vector<AutoUpgradeProfileRecord> list_auto_upgrade_profiles(pqxx::transaction_base& txn);
bool delete_auto_upgrade_profile(pqxx::transaction_base& txn, std::string_view name);
std::int64_t count_auto_upgrade_profiles(pqxx::transaction_base& txn);

// Every profile with the releases it acted on, for rollout::due_runs.
std::vector<rollout::ProfileRecord> auto_upgrade_profiles_with_releases(pqxx::transaction_base& txn);
// Records that `profile` acted on `release_key` (rollout empty: a baseline). False when it already had: another
// replica got there first, and the caller must not create the run (its transaction rolls back).
bool record_auto_upgrade_release(pqxx::transaction_base& txn, std::string_view profile, std::string_view release_key,
                                 std::string_view rollout);
// Undoes record_auto_upgrade_release when the run could not be created (so a later round tries again).
void forget_auto_upgrade_release(pqxx::transaction_base& txn, std::string_view profile, std::string_view release_key);
// Sets (or, with an empty error, clears) the profile's last error; false when it was already so (nothing written).
bool set_auto_upgrade_error(pqxx::transaction_base& txn, std::string_view profile, std::string_view error);

}  // namespace fleet::store
