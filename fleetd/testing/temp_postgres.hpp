#pragma once
// Test fixture: a real PostgreSQL server (EmbeddedPostgres) in a fresh directory under /tmp, removed afterwards.
// Tests that only need a database should share one server (shared()) and take a database each
// (create_database), which costs milliseconds instead of an initdb.
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "common/error.hpp"
#include "fleetd/db/embedded_postgres.hpp"

namespace fleet::testing {

class TempPostgres {
 public:
  // mkdtemp("/tmp/fleet-test-XXXXXX"), chmod 0755 (so that the postgres user reaches it when tests run as root),
  // then EmbeddedPostgres::start there, by default without fsync (EmbeddedPostgresOptions::durable): faster, and
  // nothing in a throwaway server needs to survive a machine crash.
  static Result<std::unique_ptr<TempPostgres>> start(bool durable = false);
  // One server for the whole test process, started on first use and removed at exit.
  static Result<TempPostgres*> shared();
  ~TempPostgres();  // stops the server and removes the directory
  TempPostgres(const TempPostgres&) = delete;
  TempPostgres& operator=(const TempPostgres&) = delete;

  const std::string& connection_url() const { return server_->connection_url(); }  // database "fleet"
  std::string connection_url_for(const std::string& database) const { return server_->connection_url_for(database); }
  const std::filesystem::path& data_dir() const { return dir_; }
  EmbeddedPostgres& server() { return *server_; }

  // A new empty database with a unique name ("<prefix>_<pid>_<n>"); with `migrated`, a copy of a template that
  // has all bundled migrations applied. Returns its connection URL.
  Result<std::string> create_database(const std::string& prefix = "test", bool migrated = false);

 private:
  TempPostgres() = default;
  std::filesystem::path dir_;
  std::unique_ptr<EmbeddedPostgres> server_;
  std::mutex mutex_;
  int next_db_ = 0;
  bool template_ready_ = false;
};

}  // namespace fleet::testing
