#pragma once
// Audit entries for requests (DESIGN §9: every mutating request is written to audit_log): who asked (the token's
// principal), what, about which object, the outcome, under the request id. The entry is written in the
// mutation's own transaction, so an acknowledged change always has its record.
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "fleetd/http/call.hpp"
#include "fleetd/store/audit_store.hpp"
#include "net/http_types.hpp"

namespace pqxx {
class connection_base;
}

namespace fleet {

// actor = the call's principal; set entry.actor afterwards for a caller that is not a token (an agent).
store::AuditEntry audit_entry(const Call& call, std::string action, std::string object_kind, std::string object_name,
                              std::string outcome, nlohmann::json detail = nlohmann::json::object());

// The "name" member of a request body that may not have parsed as the object it should be, cut to a DNS label's
// length between characters, for the audit row of a refused create; "" when there is none.
std::string audit_name_of(const nlohmann::json& body);

// What an entry records for a refusal: the problem slug, else "status-<code>".
std::string audit_outcome(const http::Response& response, const Error& error);

// A write refused before its own transaction (a bad body or header): the problem, audited in a transaction of its
// own with `entry`'s outcome set from the error.
http::Response refuse_audited(const Call& call, pqxx::connection_base& conn, store::AuditEntry entry,
                              const Error& error);

}  // namespace fleet
