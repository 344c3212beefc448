#pragma once
// Runs a private PostgreSQL server for fleetd from the machine's PostgreSQL binaries: data in
// <data_dir>/pg, a Unix socket only (listen_addresses=''), stopped when fleetd stops.
#include <filesystem>
#include <memory>
#include <string>

#include "common/error.hpp"

namespace fleet {

struct EmbeddedPostgresOptions {
  std::filesystem::path data_dir;          // fleetd's data directory; the cluster lives in data_dir/"pg"
  std::filesystem::path bin_dir;           // empty → discover (/usr/lib/postgresql/<newest>/bin, then PATH)
  std::string database = "fleet";          // created on first start
  std::string run_as_user = "postgres";    // used only when this process is root (PostgreSQL refuses root)
};

class EmbeddedPostgres {
 public:
  // initdb on first use, then start the server, or adopt one still running from a previous fleetd that was
  // killed (postmaster.pid names a live postmaster for this data directory). Fails with a message that says
  // exactly what to do when it cannot (no binaries, a data dir the server user cannot reach, …).
  static Result<std::unique_ptr<EmbeddedPostgres>> start(const EmbeddedPostgresOptions& options);
  ~EmbeddedPostgres();  // calls stop()

  // libpq connection string for the server: "postgresql:///fleet?host=/path/to/socketdir&port=5432&user=…".
  const std::string& connection_url() const { return url_; }
  const std::filesystem::path& socket_dir() const { return socket_dir_; }
  bool adopted() const { return adopted_; }  // true when an already-running server was reused

  // Fast shutdown (pg_ctl stop -m fast), idempotent.
  void stop();

 private:
  EmbeddedPostgres() = default;
  std::string url_;
  std::filesystem::path pgdata_;
  std::filesystem::path socket_dir_;
  std::filesystem::path bin_dir_;
  std::string run_as_;  // empty when not switching user
  bool adopted_ = false;
  bool stopped_ = false;
};

}  // namespace fleet
