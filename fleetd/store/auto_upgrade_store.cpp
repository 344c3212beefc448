#include "fleetd/store/auto_upgrade_store.hpp"

#include <map>
#include <pqxx/pqxx>

namespace fleet::store {
namespace {

#define FLEET_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
// The profile's columns, and its newest release with its run (a lateral read of one row).
const std::string kProfileColumns = "p.spec::text, p.created_by, p.resource_version, " FLEET_RFC3339(
    "p.created_at") ", " FLEET_RFC3339("p.updated_at") ", COALESCE(p.last_error, ''), COALESCE(" FLEET_RFC3339(
    "p.last_error_at") ", ''), COALESCE(r.release_key, ''), COALESCE(r.rollout, '')";
#undef FLEET_RFC3339
const std::string kProfileFrom =
    " FROM auto_upgrade_profiles p LEFT JOIN LATERAL (SELECT release_key, rollout FROM auto_upgrade_releases x "
    "WHERE x.profile = p.name ORDER BY x.created_at DESC, x.release_key DESC LIMIT 1) r ON true";

// fleetd wrote the spec, so a spec that does not read back is corruption: an exception, the request a 500.
rollout::AutoUpgradeProfile profile_from_spec(const pqxx::field& spec_text) {
  auto spec = rollout::auto_upgrade_profile_from_json(nlohmann::json::parse(spec_text.as<std::string>()));
  if (!spec) throw std::runtime_error("stored auto-upgrade profile does not read back: " + spec.error().message);
  return std::move(spec).value();
}

AutoUpgradeProfileRecord profile_from_row(const pqxx::row& r) {
  AutoUpgradeProfileRecord out;
  out.profile = profile_from_spec(r[0]);
  out.created_by = r[1].as<std::string>();
  out.resource_version = r[2].as<std::int64_t>();
  out.created_at = r[3].as<std::string>();
  out.updated_at = r[4].as<std::string>();
  out.last_error = r[5].as<std::string>();
  out.last_error_at = r[6].as<std::string>();
  out.last_release = r[7].as<std::string>();
  out.last_rollout = r[8].as<std::string>();
  return out;
}

std::optional<AutoUpgradeProfileRecord> read_one(pqxx::transaction_base& txn, std::string_view name) {
  auto rows = txn.exec_params("SELECT " + kProfileColumns + kProfileFrom + " WHERE p.name = $1", std::string(name));
  if (rows.empty()) return std::nullopt;
  return profile_from_row(rows[0]);
}

}  // namespace

bool insert_auto_upgrade_profile(pqxx::transaction_base& txn, const rollout::AutoUpgradeProfile& profile,
                                 std::string_view created_by) {
  return !txn.exec_params(
                 "INSERT INTO auto_upgrade_profiles (name, spec, created_by) VALUES ($1, $2::jsonb, $3) "
                 "ON CONFLICT (name) DO NOTHING RETURNING name",
                 profile.name, rollout::to_json(profile).dump(), std::string(created_by))
              .empty();
}

std::optional<AutoUpgradeProfileRecord> replace_auto_upgrade_profile(pqxx::transaction_base& txn,
                                                                     const rollout::AutoUpgradeProfile& profile) {
  auto rows = txn.exec_params(
      "UPDATE auto_upgrade_profiles SET spec = $2::jsonb, updated_at = now(), last_error = NULL, "
      "last_error_at = NULL, resource_version = nextval('resource_version_seq') WHERE name = $1 RETURNING name",
      profile.name, rollout::to_json(profile).dump());
  if (rows.empty()) return std::nullopt;
  return read_one(txn, profile.name);
}

std::optional<AutoUpgradeProfileRecord> get_auto_upgrade_profile(pqxx::transaction_base& txn, std::string_view name,
                                                                 bool for_update) {
  // The lock is the profile's row alone (the newest release beside it is on the nullable side of the join).
  if (for_update) {
    txn.exec_params("SELECT 1 FROM auto_upgrade_profiles WHERE name = $1 FOR UPDATE", std::string(name));
  }
  return read_one(txn, name);
}

std::vector<AutoUpgradeProfileRecord> list_auto_upgrade_profiles(pqxx::transaction_base& txn) {
  std::vector<AutoUpgradeProfileRecord> out;
  for (const auto& r : txn.exec("SELECT " + kProfileColumns + kProfileFrom + " ORDER BY p.name")) {
    out.push_back(profile_from_row(r));
  }
  return out;
}

bool delete_auto_upgrade_profile(pqxx::transaction_base& txn, std::string_view name) {
  return txn.exec_params("DELETE FROM auto_upgrade_profiles WHERE name = $1", std::string(name)).affected_rows() > 0;
}

std::int64_t count_auto_upgrade_profiles(pqxx::transaction_base& txn) {
  return txn.exec("SELECT count(*) FROM auto_upgrade_profiles")[0][0].as<std::int64_t>();
}

std::vector<rollout::ProfileRecord> auto_upgrade_profiles_with_releases(pqxx::transaction_base& txn) {
  std::vector<rollout::ProfileRecord> out;
  std::map<std::string, std::size_t> index;
  for (const auto& r : txn.exec("SELECT name, spec::text FROM auto_upgrade_profiles ORDER BY name")) {
    index[r[0].as<std::string>()] = out.size();
    out.push_back({profile_from_spec(r[1]), {}});
  }
  if (out.empty()) return out;
  for (const auto& r : txn.exec("SELECT profile, release_key FROM auto_upgrade_releases")) {
    auto it = index.find(r[0].as<std::string>());
    if (it != index.end()) out[it->second].acted_on.push_back(r[1].as<std::string>());
  }
  return out;
}

bool record_auto_upgrade_release(pqxx::transaction_base& txn, std::string_view profile, std::string_view release_key,
                                 std::string_view rollout) {
  // A concurrent insert of the same key waits here for the other transaction, then finds the row: exactly once.
  return !txn.exec_params(
                 "INSERT INTO auto_upgrade_releases (profile, release_key, rollout) VALUES ($1, $2, NULLIF($3, '')) "
                 "ON CONFLICT DO NOTHING RETURNING 1",
                 std::string(profile), std::string(release_key), std::string(rollout))
              .empty();
}

void forget_auto_upgrade_release(pqxx::transaction_base& txn, std::string_view profile, std::string_view release_key) {
  txn.exec_params("DELETE FROM auto_upgrade_releases WHERE profile = $1 AND release_key = $2", std::string(profile),
                  std::string(release_key));
}

bool set_auto_upgrade_error(pqxx::transaction_base& txn, std::string_view profile, std::string_view error) {
  return txn.exec_params(
                "UPDATE auto_upgrade_profiles SET last_error = NULLIF($2, ''), "
                "last_error_at = CASE WHEN $2 = '' THEN NULL ELSE now() END "
                "WHERE name = $1 AND last_error IS DISTINCT FROM NULLIF($2, '')",
                std::string(profile), std::string(error))
             .affected_rows() > 0;
}

}  // namespace fleet::store
