#include "fleetd/app/database.hpp"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "common/log.hpp"
#include "fleetd/db/migrations.hpp"

namespace fs = std::filesystem;

namespace fleet {
namespace {

// The embedded server of a fleetd that runs now: postmaster.pid names its socket directory and port
// (PostgreSQL's documented layout: pid, data dir, start time, port, socket dir, …).
std::optional<std::string> running_embedded_url(const std::string& data_dir) {
  std::ifstream in(fs::path(data_dir) / "pg" / "postmaster.pid");
  std::vector<std::string> lines;
  for (std::string line; lines.size() < 5 && std::getline(in, line);) lines.push_back(line);
  if (lines.size() < 5) return std::nullopt;
  pid_t pid = static_cast<pid_t>(std::atol(lines[0].c_str()));
  if (pid <= 0 || ::kill(pid, 0) != 0) return std::nullopt;
  std::string url = "host=" + lines[4] + " port=" + lines[3] + " dbname=fleet user=fleet";
  try {
    pqxx::connection probe(url);
    return url;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

Result<Database> open_database(const std::string& database_url, const std::string& data_dir) {
  Database db;
  if (!database_url.empty()) {
    db.url = database_url;
    return db;
  }
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return make_error(ErrorCode::kInvalid, "cannot create data directory " + data_dir + ": " + ec.message());
  EmbeddedPostgresOptions opts;
  opts.data_dir = fs::absolute(data_dir);
  auto pg = EmbeddedPostgres::start(opts);
  if (!pg) return pg.error();
  db.url = (*pg)->connection_url();
  db.embedded = std::move(*pg);
  return db;
}

Result<Database> open_offline_database(const std::string& database_url, const std::string& data_dir) {
  if (database_url.empty()) {
    if (auto url = running_embedded_url(data_dir)) return Database{*url, nullptr};
  }
  return open_database(database_url, data_dir);
}

Status migrate(const std::string& url) {
  try {
    pqxx::connection conn(url);
    auto report = apply_migrations(conn, bundled_migrations());
    if (!report) return report.error();
    log::info("schema ready", {{"version", report->current_version}, {"appliedNow", report->applied_now}});
    return Ok{};
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kUnavailable, std::string("cannot connect to the database: ") + e.what());
  }
}

}  // namespace fleet
