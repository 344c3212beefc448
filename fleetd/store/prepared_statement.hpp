#pragma once
// A statement fleetd runs many times a second (a heartbeat's writes, the agents' report batch, the command claim),
// run as a named prepared statement of its connection rather than unnamed: PostgreSQL then keeps its plan (a generic
// plan once five runs show it is as good) instead of planning it at every call. Planning cost as much as executing
// these statements: with 1,000 agents, a third of PostgreSQL's CPU in the busiest second of a staged run
// (docs/benchmarks.md, stop 40). libpqxx keeps the definitions of each connection and registers a statement with
// the server at its first use there; defining the same name with the same text again is a no-op, and a reconnect
// registers it anew. So a connection of any pool, or a test's own, can run it without being set up first.
#include <pqxx/pqxx>
#include <string>
#include <utility>

namespace fleet::store {

template <class... Args>
pqxx::result exec_prepared_statement(pqxx::transaction_base& txn, const std::string& name, const std::string& sql,
                                     Args&&... args) {
  txn.conn().prepare(name, sql);
  return txn.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace fleet::store
