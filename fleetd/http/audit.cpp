#include "fleetd/http/audit.hpp"

#include <pqxx/pqxx>
#include <utility>

#include "common/utf8.hpp"
#include "fleetd/http/responses.hpp"

namespace fleet {

store::AuditEntry audit_entry(const Call& call, std::string action, std::string object_kind, std::string object_name,
                              std::string outcome, nlohmann::json detail) {
  store::AuditEntry e;
  e.actor = call.principal.actor();
  e.action = std::move(action);
  e.object_kind = std::move(object_kind);
  e.object_name = std::move(object_name);
  e.request_id = call.req.request_id;
  e.server_request_id = call.req.server_request_id;
  e.outcome = std::move(outcome);
  e.detail = std::move(detail);
  return e;
}

std::string audit_outcome(const http::Response& response, const Error& error) {
  if (!error.type.empty()) return error.type;
  return "status-" + std::to_string(response.status);
}

http::Response refuse_audited(const Call& call, pqxx::connection_base& conn, store::AuditEntry entry,
                              const Error& error) {
  auto resp = problem(call, error);
  entry.outcome = audit_outcome(resp, error);
  pqxx::work txn(conn);
  store::write_audit(txn, entry);
  txn.commit();
  return resp;
}

std::string audit_name_of(const nlohmann::json& body) {
  return body.is_object() && body.contains("name") && body["name"].is_string()
             ? truncate_utf8(body["name"].get<std::string>(), 63)
             : "";
}

}  // namespace fleet
