#pragma once
// The audit log: one row per attempted mutation by an authenticated caller, written in the mutation's own
// transaction so that an acknowledged change always has its record (and a rolled-back one has none).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

struct AuditEntry {
  std::int64_t id = 0;
  std::string at;  // RFC 3339, filled on read
  std::string actor;
  std::string action;       // "cluster.create"
  std::string object_kind;  // "cluster"
  std::string object_name;
  std::string request_id;         // the client's X-Request-Id, else the server's id
  std::string server_request_id;  // the server's own id for the request; "" for fleetd's own actions
  std::string outcome;            // "success" or a problem slug
  nlohmann::json detail = nlohmann::json::object();
};

void write_audit(pqxx::transaction_base& txn, const AuditEntry& entry);
// Many entries in one statement, in their order.
void write_audits(pqxx::transaction_base& txn, const std::vector<AuditEntry>& entries);
// Newest first; entries with id < before_id when before_id > 0.
std::vector<AuditEntry> list_audit(pqxx::transaction_base& txn, std::int64_t before_id, int limit);

}  // namespace fleet::store
