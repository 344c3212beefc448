// Auto-upgrade profiles (issue #13 item 3): /v1/auto-upgrade-profiles. A profile names a channel and a stored
// strategy; fleetd's auto-upgrade loop (loops/auto_upgrade_loop.hpp) creates a run for each release the channel
// selects from then on. Creating a profile, or changing its channel, records the release it selects now as its
// baseline: no run for it. Every change is audited.
#include <pqxx/pqxx>

#include "api/json_body.hpp"
#include "fleetd/handlers/routes.hpp"
#include "fleetd/http/audit.hpp"
#include "fleetd/http/idempotent_create.hpp"
#include "fleetd/http/request_params.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/auto_upgrade_store.hpp"
#include "fleetd/store/idempotency_store.hpp"
#include "fleetd/store/rollout_creation.hpp"
#include "fleetd/store/rollout_store.hpp"
#include "fleetd/store/version_store.hpp"
#include "model/json_read.hpp"
#include "rollout/auto_upgrade.hpp"
#include "rollout/strategy_json.hpp"

namespace fleet {
namespace {

using nlohmann::json;

// The profile, its record and where it stands: the release its channel selects now (null when none), the newest
// release it acted on with its run, and why the last due run could not be created.
json profile_json(const store::AutoUpgradeProfileRecord& r, const rollout::VersionCatalog& catalog,
                  rollout::TimePoint now) {
  json j = rollout::to_json(r.profile);
  j["createdBy"] = r.created_by;
  j["resourceVersion"] = std::to_string(r.resource_version);
  j["createdAt"] = r.created_at;
  j["updatedAt"] = r.updated_at;
  json status = json::object();
  if (auto release = rollout::channel_release(r.profile, catalog, now)) {
    status["selectedRelease"] = {{"key", release->key}, {"target", rollout::to_json(release->target)}};
  } else {
    status["selectedRelease"] = nullptr;
  }
  if (!r.last_release.empty()) {
    status["lastRelease"] = r.last_release;
    if (!r.last_rollout.empty()) status["lastRollout"] = r.last_rollout;
  }
  if (!r.last_error.empty()) {
    status["lastError"] = r.last_error;
    status["lastErrorAt"] = r.last_error_at;
  }
  j["status"] = std::move(status);
  return j;
}

// The profile with its ETag (its resourceVersion), which PUT takes as If-Match.
http::Response profile_response(int status, const store::AutoUpgradeProfileRecord& r,
                                const rollout::VersionCatalog& catalog, rollout::TimePoint now) {
  auto resp = json_response(status, profile_json(r, catalog, now).dump());
  resp.headers["etag"] = "\"" + std::to_string(r.resource_version) + "\"";
  return resp;
}

Error profile_not_found(const std::string& name) {
  return make_error(ErrorCode::kNotFound, "auto-upgrade profile \"" + name + "\" not found", "", "not-found");
}

store::AuditEntry profile_entry(const Call& call, std::string action, std::string name, std::string outcome,
                                json detail = json::object()) {
  return audit_entry(call, std::move(action), "auto-upgrade-profile", std::move(name), std::move(outcome),
                     std::move(detail));
}

// The strategy must exist when the profile is written (it is read again, and frozen, when each run is created).
Status check_strategy(pqxx::transaction_base& txn, const rollout::AutoUpgradeProfile& p) {
  if (store::get_strategy(txn, p.strategy_ref)) return Ok{};
  return store::unknown_strategy_ref(p.strategy_ref);
}

// The release the channel selects now becomes acted on without a run.
void record_baseline(pqxx::transaction_base& txn, const rollout::AutoUpgradeProfile& p,
                     const rollout::VersionCatalog& catalog, rollout::TimePoint now) {
  if (auto release = rollout::channel_release(p, catalog, now)) {
    store::record_auto_upgrade_release(txn, p.name, release->key, "");
  }
}

http::Response create_profile(Call& call, pqxx::connection_base& conn, const Clock& clock) {
  const std::string action = "auto-upgrade-profile.create";
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return refuse_audited(call, conn, profile_entry(call, action, "", ""), body.error());
  const std::string given = audit_name_of(*body);
  auto profile = rollout::auto_upgrade_profile_from_json(*body);
  if (!profile) return refuse_audited(call, conn, profile_entry(call, action, given, ""), profile.error());
  auto key = idempotency_key(call);
  if (!key) return refuse_audited(call, conn, profile_entry(call, action, profile->name, ""), key.error());
  pqxx::work txn(conn);
  if (auto earlier = replay_earlier(call, txn, *key, profile_entry(call, action, profile->name, "")))
    return std::move(*earlier);
  const auto now = clock.wall_now();
  http::Response resp;
  std::string outcome = "success";
  auto refuse = [&](const Error& err) {
    resp = problem(call, err);
    outcome = err.type;
  };
  if (auto s = check_strategy(txn, *profile); !s) {
    refuse(s.error());
  } else if (store::count_auto_upgrade_profiles(txn) >= static_cast<std::int64_t>(rollout::kMaxAutoUpgradeProfiles)) {
    refuse(make_error(ErrorCode::kConflict,
                      "at most " + std::to_string(rollout::kMaxAutoUpgradeProfiles) + " auto-upgrade profiles", "",
                      "limit-reached"));
  } else if (!store::insert_auto_upgrade_profile(txn, *profile, call.principal.actor())) {
    refuse(make_error(ErrorCode::kConflict, "an auto-upgrade profile named \"" + profile->name + "\" already exists",
                      "name", "already-exists"));
  } else {
    const rollout::VersionCatalog catalog = store::load_catalog(txn);
    record_baseline(txn, *profile, catalog, now);
    resp = profile_response(201, *store::get_auto_upgrade_profile(txn, profile->name), catalog, now);
    resp.headers["location"] = "/v1/auto-upgrade-profiles/" + profile->name;
  }
  store::write_audit(txn,
                     profile_entry(call, action, profile->name, outcome, {{"profile", rollout::to_json(*profile)}}));
  if (*key) store::complete_idempotency_key(txn, **key, resp.status, resp.body);
  txn.commit();
  return resp;
}

http::Response replace_profile(Call& call, pqxx::connection_base& conn, const Clock& clock) {
  const std::string action = "auto-upgrade-profile.replace";
  const std::string name = call.path["name"];
  auto if_match = parse_if_match(call);
  if (!if_match) return refuse_audited(call, conn, profile_entry(call, action, name, ""), if_match.error());
  auto body = api::parse_json_body(call.req, {"application/json"});
  if (!body) return refuse_audited(call, conn, profile_entry(call, action, name, ""), body.error());
  auto profile = rollout::auto_upgrade_profile_from_json(*body);
  if (profile && profile->name != name) {
    profile = model::invalid_field("name", "must be the name in the path, \"" + name + "\"");
  }
  if (!profile) return refuse_audited(call, conn, profile_entry(call, action, name, ""), profile.error());
  pqxx::work txn(conn);
  const auto now = clock.wall_now();
  http::Response resp;
  std::string outcome = "success";
  auto before = store::get_auto_upgrade_profile(txn, name, true);
  if (!before) {
    resp = problem(call, profile_not_found(name));
    outcome = "not-found";
  } else if (*if_match && **if_match != before->resource_version) {
    auto err = make_error(ErrorCode::kPreconditionFailed,
                          "If-Match " + std::to_string(**if_match) + " is stale: the profile is at version " +
                              std::to_string(before->resource_version),
                          "If-Match", "precondition-failed");
    resp = problem(call, err);
    outcome = err.type;
  } else if (auto s = check_strategy(txn, *profile); !s) {
    resp = problem(call, s.error());
    outcome = s.error().type;
  } else {
    const rollout::VersionCatalog catalog = store::load_catalog(txn);
    // Another channel (or pinned minor, or provider) starts from its own baseline; enabling a profile again does
    // not: it catches up with the release its channel selects now, once. Recorded first, so that the replaced
    // profile as read back shows it.
    const auto& old = before->profile;
    if (old.channel != profile->channel || old.provider != profile->provider ||
        old.target_minor != profile->target_minor) {
      record_baseline(txn, *profile, catalog, now);
    }
    resp = profile_response(200, *store::replace_auto_upgrade_profile(txn, *profile), catalog, now);
  }
  store::write_audit(txn, profile_entry(call, action, name, outcome, {{"profile", rollout::to_json(*profile)}}));
  txn.commit();
  return resp;
}

http::Response get_profile(Call& call, pqxx::connection_base& conn, const Clock& clock) {
  const std::string name = call.path["name"];
  pqxx::read_transaction txn(conn);
  auto stored = store::get_auto_upgrade_profile(txn, name);
  if (!stored) return problem(call, profile_not_found(name));
  return profile_response(200, *stored, store::load_catalog(txn), clock.wall_now());
}

http::Response list_profiles(Call& call, pqxx::connection_base& conn, const Clock& clock) {
  static const ListParamSpec kSpec{static_cast<int>(rollout::kMaxAutoUpgradeProfiles),
                                   static_cast<int>(rollout::kMaxAutoUpgradeProfiles),
                                   false,
                                   {}};
  auto params = parse_list_params(call, kSpec);
  if (!params) return problem(call, params.error());
  pqxx::read_transaction txn(conn);
  const auto all = store::list_auto_upgrade_profiles(txn);
  json items = json::array();
  if (!all.empty()) {
    const rollout::VersionCatalog catalog = store::load_catalog(txn);
    const auto now = clock.wall_now();
    for (const auto& r : all) {
      if (static_cast<int>(items.size()) == params->limit) break;
      items.push_back(profile_json(r, catalog, now));
    }
  }
  return json_response(200, json{{"items", std::move(items)}}.dump());
}

http::Response delete_profile(Call& call, pqxx::connection_base& conn) {
  const std::string name = call.path["name"];
  pqxx::work txn(conn);
  http::Response resp;
  std::string outcome = "success";
  if (store::delete_auto_upgrade_profile(txn, name)) {
    resp.status = 204;  // the runs it created stay: they are runs like any other
  } else {
    resp = problem(call, profile_not_found(name));
    outcome = "not-found";
  }
  store::write_audit(txn, profile_entry(call, "auto-upgrade-profile.delete", name, outcome));
  txn.commit();
  return resp;
}

}  // namespace

void register_auto_upgrade_routes(ApiService& api, const Clock& clock) {
  const Clock* c = &clock;
  const std::string base = "/v1/auto-upgrade-profiles";
  api.add_db_route("POST", base, Role::kOperator,
                   [c](Call& call, pqxx::connection_base& conn) { return create_profile(call, conn, *c); });
  api.add_db_route("GET", base, Role::kViewer,
                   [c](Call& call, pqxx::connection_base& conn) { return list_profiles(call, conn, *c); });
  api.add_db_route("GET", base + "/{name}", Role::kViewer,
                   [c](Call& call, pqxx::connection_base& conn) { return get_profile(call, conn, *c); });
  api.add_db_route("PUT", base + "/{name}", Role::kOperator,
                   [c](Call& call, pqxx::connection_base& conn) { return replace_profile(call, conn, *c); });
  api.add_db_route("DELETE", base + "/{name}", Role::kOperator, delete_profile);
}

}  // namespace fleet
