#pragma once
// Schema migrations: numbered SQL files from migrations/ compiled into the binary, applied in order at start
// under a PostgreSQL advisory lock (two fleetd starting together on one database do not collide), each in its
// own transaction and recorded in schema_migrations. A database that has a migration this binary does not know
// (a newer fleetd ran) is refused.
#include <string>
#include <vector>

#include "common/error.hpp"

namespace pqxx {
class connection;
}

namespace fleet {

struct Migration {
  int version;            // from the file name: 0001_init.sql → 1
  std::string name;       // "0001_init"
  std::string sql;
};

// The migrations compiled into this binary, in version order.
const std::vector<Migration>& bundled_migrations();

struct MigrationReport {
  std::vector<int> applied_now;
  int current_version = 0;
};

Result<MigrationReport> apply_migrations(pqxx::connection& conn, const std::vector<Migration>& migrations);
// Without applying: are all of `migrations` applied and nothing newer present? (for /readyz)
Result<int> check_migrations(pqxx::connection& conn, const std::vector<Migration>& migrations);

}  // namespace fleet
