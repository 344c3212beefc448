#pragma once
// Runs a private PostgreSQL server for fleetd from the machine's PostgreSQL binaries: data in
// <data_dir>/pg, a Unix socket only (listen_addresses=''), stopped when fleetd stops.
#include <filesystem>
#include <memory>
#include <string>

#include "common/error.hpp"

namespace fleet {

struct EmbeddedPostgresOptions {
  std::filesystem::path data_dir;        // fleetd's data directory; the cluster lives in data_dir/"pg"
  std::filesystem::path bin_dir;         // empty → discover (/usr/lib/postgresql/<newest>/bin, then PATH)
  std::string database = "fleet";        // created on first start
  std::string run_as_user = "postgres";  // used only when this process is root (PostgreSQL refuses root)
  // false only for throwaway test servers: initdb --no-sync, fsync/synchronous_commit/full_page_writes off.
  bool durable = true;
};

class EmbeddedPostgres {
 public:
  // initdb on first use, then start the server, or adopt one still running from a previous fleetd that was
  // killed (postmaster.pid names a live postmaster for this data directory). Fails with a message that says
  // exactly what to do when it cannot (no binaries, a data dir the server user cannot reach, …).
  // Only one EmbeddedPostgres may own a data directory at a time (an flock on <data_dir>/embedded-postgres.lock,
  // released by the kernel when the owner dies, so a killed fleetd never blocks the next one).
  static Result<std::unique_ptr<EmbeddedPostgres>> start(const EmbeddedPostgresOptions& options);
  ~EmbeddedPostgres();  // calls stop()
  EmbeddedPostgres(const EmbeddedPostgres&) = delete;
  EmbeddedPostgres& operator=(const EmbeddedPostgres&) = delete;

  // libpq URI for `options.database`, accepted by libpq and libpqxx:
  // "postgresql:///fleet?host=%2Fpath%2Fto%2Fsocketdir&port=5432&user=fleet" (socket dir percent-encoded).
  const std::string& connection_url() const { return url_; }
  // The same server, another database on it (e.g. "postgres").
  std::string connection_url_for(const std::string& database) const;
  const std::filesystem::path& socket_dir() const { return socket_dir_; }
  const std::filesystem::path& pgdata() const { return pgdata_; }  // data_dir/"pg"
  bool adopted() const { return adopted_; }                        // true when an already-running server was reused

  // Fast shutdown (pg_ctl stop -m fast), idempotent.
  void stop();

 private:
  EmbeddedPostgres() = default;
  Status lock_data_dir(const std::filesystem::path& data_dir);
  std::string url_;
  std::filesystem::path pgdata_;
  std::filesystem::path socket_dir_;
  std::filesystem::path bin_dir_;
  std::string run_as_;  // empty when not switching user
  bool adopted_ = false;
  bool stopped_ = false;
  int lock_fd_ = -1;  // flock on data_dir/embedded-postgres.lock, held until stop()
};

}  // namespace fleet
