#include "fleetd/app/local_access.hpp"

#include <fstream>
#include <pqxx/pqxx>

#include <nlohmann/json.hpp>

#include "fleetd/store/audit_store.hpp"
#include "fleetd/store/token_store.hpp"

namespace fs = std::filesystem;

namespace fleet {

Status write_local_access(const std::string& database_url, const fs::path& data_dir, const std::string& server_url,
                          const std::string& ca_file) {
  fs::path token_file = data_dir / "admin-token";
  std::string token;
  if (std::ifstream in(token_file); in) std::getline(in, token);
  if (token.empty()) {
    try {
      pqxx::connection conn(database_url);
      pqxx::work txn(conn);
      auto created =
          store::create_token(txn, Role::kAdmin, "embedded-mode admin (written to the data directory)", "fleetd");
      store::AuditEntry e;  // audited like every token change (issue #10)
      e.actor = "fleetd";
      e.action = "token.create";
      e.object_kind = "token";
      e.object_name = created.record.id;
      e.outcome = "success";
      e.detail = {{"role", "admin"}, {"description", "embedded-mode admin (written to the data directory)"}};
      store::write_audit(txn, e);
      txn.commit();
      token = created.token;
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kUnavailable, std::string("cannot create the admin token: ") + e.what());
    }
    if (auto st = write_private_file(token_file, token + "\n"); !st) return st;
  }
  nlohmann::json cfg = {
      {"currentContext", "local"},
      {"contexts", {{{"name", "local"}, {"server", server_url}, {"token", token}, {"caFile", ca_file}}}}};
  return write_private_file(data_dir / "fleetctl.json", cfg.dump(2) + "\n");
}

}  // namespace fleet
