#include "fleetd/app/token_cli.hpp"

#include <iostream>
#include <pqxx/pqxx>

#include "fleetd/app/database.hpp"
#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/token_store.hpp"

namespace fleet {
namespace {

// Token changes made beside the API are audited like the API's own (issue #10), in the same transaction.
void audit_cli(pqxx::transaction_base& txn, const std::string& actor, const std::string& action, const std::string& id,
               const std::string& outcome, nlohmann::json detail = nlohmann::json::object()) {
  store::AuditEntry e;
  e.actor = actor;
  e.action = action;
  e.object_kind = "token";
  e.object_name = id;
  e.outcome = outcome;
  e.detail = std::move(detail);
  store::write_audit(txn, e);
}

}  // namespace

int run_token_create(const std::string& role_text, const std::string& description, const TokenCliOptions& options) {
  auto role = parse_role(role_text);
  if (!role) {
    std::cerr << "fleetd token create: --role must be viewer, operator or admin\n";
    return 2;
  }
  auto db = open_offline_database(options.database_url, options.data_dir);
  if (!db) {
    std::cerr << "fleetd token create: " << db.error().message << "\n";
    return 1;
  }
  if (auto st = migrate(db->url); !st) {
    std::cerr << "fleetd token create: " << st.error().message << "\n";
    return 1;  // a server this command started stops with `db`
  }
  try {
    pqxx::connection conn(db->url);
    pqxx::work txn(conn);
    auto created = store::create_token(txn, *role, description, "cli:fleetd-token-create");
    audit_cli(txn, "cli:fleetd-token-create", "token.create", created.record.id, "success",
              {{"role", role_name(*role)}, {"description", description}});
    txn.commit();
    std::cerr << "created " << role_name(*role) << " token " << created.record.id << "\n";
    std::cout << created.token << std::endl;  // last word on stdout: scripts take it with $(…)
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "fleetd token create: " << e.what() << "\n";
    return 1;
  }
}

int run_token_revoke(const std::string& id, const TokenCliOptions& options) {
  auto db = open_offline_database(options.database_url, options.data_dir);
  if (!db) {
    std::cerr << "fleetd token revoke: " << db.error().message << "\n";
    return 1;
  }
  try {
    pqxx::connection conn(db->url);
    pqxx::work txn(conn);
    bool ok = store::revoke_token(txn, id);
    audit_cli(txn, "cli:fleetd-token-revoke", "token.revoke", id, ok ? "success" : "not-found");
    txn.commit();
    if (!ok) {
      std::cerr << "fleetd token revoke: no valid token with id " << id << "\n";
      return 3;
    }
    std::cerr << "revoked token " << id << " (replicas forget cached tokens within 5 s)\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "fleetd token revoke: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace fleet
