#pragma once
// Schema migrations: numbered SQL files from migrations/ compiled into the binary, applied in order at start
// under a PostgreSQL advisory lock (two fleetd starting together on one database do not collide), each in its
// own transaction and recorded in schema_migrations. A database that has a migration this binary does not know
// (a newer fleetd ran) is refused.
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"

// libpqxx 6.4: pqxx::connection is an alias of a template deriving from connection_base, so it cannot be
// forward-declared; any pqxx::connection binds to connection_base&.
namespace pqxx {
class connection_base;
}

namespace fleet {

struct Migration {
  int version;       // from the file name: 0001_init.sql → 1
  std::string name;  // "0001_init"
  std::string sql;
};

// The migrations compiled into this binary, in version order (generated from migrations/*.sql by
// cmake/embed_migrations.cmake; the build fails on a misnamed file, a duplicate or a gap).
const std::vector<Migration>& bundled_migrations();

// Hex SHA-256 of the migration's SQL, recorded in schema_migrations.checksum.
std::string migration_checksum(const Migration& migration);

struct MigrationReport {
  std::vector<int> applied_now;
  int current_version = 0;
};

// Brings the database up to the last of `migrations` (which must be numbered 1..N in order). Errors
// (ErrorCode::kUnavailable unless noted): the database has a version newer than N ("upgrade fleetd"); a recorded
// checksum differs from the SQL here (a released migration was edited); a migration failed (kInternal, naming it;
// it was rolled back). Two processes calling this at once both succeed and exactly one applies each migration.
// Every migration runs in one transaction, so it must not use statements that cannot (CREATE INDEX CONCURRENTLY).
Result<MigrationReport> apply_migrations(pqxx::connection_base& conn, const std::vector<Migration>& migrations);
// Without applying or locking: are all of `migrations` applied (with matching checksums) and nothing newer
// present? Returns the current version, or the reason it is not ready (for /readyz).
Result<int> check_migrations(pqxx::connection_base& conn, const std::vector<Migration>& migrations);

namespace detail {
// What the generated source holds; bundled_migrations() copies it (apply/check_migrations check the order).
struct EmbeddedMigration {
  int version;
  const char* name;
  const char* sql;
};
}  // namespace detail

}  // namespace fleet
