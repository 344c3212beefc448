#include "fleetd/store/audit_store.hpp"

#include <pqxx/pqxx>

namespace fleet::store {
namespace {
constexpr const char* kInsert =
    "INSERT INTO audit_log (actor, action, object_kind, object_name, request_id, outcome, detail, server_request_id) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)";
// write_audits: $1 a JSON array of entries, inserted in its order.
constexpr const char* kInsertMany =
    "INSERT INTO audit_log (actor, action, object_kind, object_name, request_id, outcome, detail, server_request_id) "
    "SELECT e->>'actor', e->>'action', e->>'kind', e->>'name', e->>'request', e->>'outcome', e->'detail', "
    "e->>'server' FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n";
constexpr const char* kList =
    "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), actor, action, object_kind, "
    "object_name, request_id, outcome, detail::text, server_request_id FROM audit_log WHERE ($1 = 0 OR id < $1) ORDER "
    "BY id DESC "
    "LIMIT $2";
}  // namespace

void write_audit(pqxx::transaction_base& txn, const AuditEntry& e) {
  txn.exec_params(kInsert, e.actor, e.action, e.object_kind, e.object_name, e.request_id, e.outcome,
                  e.detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), e.server_request_id);
}

void write_audits(pqxx::transaction_base& txn, const std::vector<AuditEntry>& entries) {
  if (entries.empty()) return;
  nlohmann::json rows = nlohmann::json::array();
  for (const AuditEntry& e : entries) {
    rows.push_back({{"actor", e.actor},
                    {"action", e.action},
                    {"kind", e.object_kind},
                    {"name", e.object_name},
                    {"request", e.request_id},
                    {"outcome", e.outcome},
                    {"detail", e.detail},
                    {"server", e.server_request_id}});
  }
  txn.exec_params(kInsertMany, rows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::vector<AuditEntry> list_audit(pqxx::transaction_base& txn, std::int64_t before_id, int limit) {
  std::vector<AuditEntry> out;
  for (const auto& r : txn.exec_params(kList, before_id, limit)) {
    AuditEntry e;
    e.id = r[0].as<std::int64_t>();
    e.at = r[1].c_str();
    e.actor = r[2].c_str();
    e.action = r[3].c_str();
    e.object_kind = r[4].c_str();
    e.object_name = r[5].c_str();
    e.request_id = r[6].c_str();
    e.outcome = r[7].c_str();
    e.detail = nlohmann::json::parse(r[8].c_str());
    e.server_request_id = r[9].c_str();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace fleet::store
