#pragma once
// Which PostgreSQL fleetd uses: an external one (--database-url), or its embedded server in the data directory,
// started here (or, for the offline token commands, the one a running fleetd already has).
#include <memory>
#include <string>

#include "common/error.hpp"
#include "fleetd/db/embedded_postgres.hpp"

namespace fleet {

struct Database {
  std::string url;
  std::unique_ptr<EmbeddedPostgres> embedded;  // null with --database-url, or when a running fleetd's is used
};

// --database-url when given, else the embedded server in data_dir (initdb on first use).
Result<Database> open_database(const std::string& database_url, const std::string& data_dir);
// For the offline token commands: the running fleetd's embedded server when there is one (left running), else a
// server started for this command alone (stopped when the Database goes), else --database-url.
Result<Database> open_offline_database(const std::string& database_url, const std::string& data_dir);
// Applies the bundled migrations; kUnavailable when the database cannot be reached.
Status migrate(const std::string& url);

}  // namespace fleet
