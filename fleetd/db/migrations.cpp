#include "fleetd/db/migrations.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "common/log.hpp"
#include "fleetd/db/lock_keys.hpp"

namespace fleet {
namespace detail {
extern const EmbeddedMigration kEmbeddedMigrations[];
extern const int kEmbeddedMigrationCount;
}  // namespace detail

namespace {

// Applying can take as long as the slowest migration of another fleetd; beyond this something is wrong.
constexpr std::chrono::minutes kLockTimeout{10};

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version int PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now(),"
    " checksum text NOT NULL)";
constexpr const char* kTableExists = "SELECT to_regclass('schema_migrations') IS NOT NULL";
constexpr const char* kSelectApplied =
    "SELECT version, name, coalesce(checksum, '') FROM schema_migrations ORDER BY version";
constexpr const char* kInsertApplied = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";
constexpr const char* kTryLock = "SELECT pg_try_advisory_lock($1)";
constexpr const char* kUnlock = "SELECT pg_advisory_unlock($1)";

struct Applied {
  int version;
  std::string name;
  std::string checksum;
};

Error unavailable(std::string message, std::string type = {}) {
  return make_error(ErrorCode::kUnavailable, std::move(message), {}, std::move(type));
}

Status validate_list(const std::vector<Migration>& migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return make_error(ErrorCode::kInternal, "migration " + migrations[i].name + " has version " +
                                                  std::to_string(migrations[i].version) + ", expected " +
                                                  std::to_string(i + 1) + " (versions are contiguous from 1)");
    }
  }
  return Ok{};
}

std::vector<Applied> read_applied(pqxx::transaction_base& tx) {
  std::vector<Applied> out;
  for (const auto& row : tx.exec(kSelectApplied)) {
    out.push_back({row[0].as<int>(), row[1].as<std::string>(), row[2].as<std::string>()});
  }
  return out;
}

// What is recorded must be a prefix of what this binary knows, with the same SQL. Returns the current version.
Result<int> check_recorded(const std::vector<Applied>& applied, const std::vector<Migration>& migrations) {
  const int known = static_cast<int>(migrations.size());
  if (!applied.empty() && applied.back().version > known) {
    return unavailable("database schema version " + std::to_string(applied.back().version) +
                           " is newer than this fleetd (knows up to " + std::to_string(known) + "); upgrade fleetd",
                       "schema-too-new");
  }
  for (std::size_t i = 0; i < applied.size(); ++i) {
    const Applied& a = applied[i];
    if (a.version != static_cast<int>(i) + 1) {
      return unavailable("schema_migrations is missing version " + std::to_string(i + 1) + " but records " +
                             std::to_string(a.version) + "; the database was changed by hand and needs repair",
                         "schema-gap");
    }
    const Migration& m = migrations[i];
    const std::string want = migration_checksum(m);
    if (a.checksum != want) {
      return unavailable("migration " + m.name + " was applied with checksum " +
                             (a.checksum.empty() ? std::string("(none)") : a.checksum) +
                             " but this fleetd's copy has " + want +
                             "; a released migration was edited (migrations are append-only: restore it and add a "
                             "new one)",
                         "migration-checksum-mismatch");
    }
  }
  return static_cast<int>(applied.size());
}

// Session-level advisory lock, polled so the wait has a deadline; released by the guard or when the session ends.
class AdvisoryLock {
 public:
  explicit AdvisoryLock(pqxx::connection_base& conn) : conn_(conn) {}
  ~AdvisoryLock() {
    if (!held_) return;
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec_params(kUnlock, lock_keys::kMigrations);
    } catch (const std::exception& e) {
      // The lock goes with the session if the connection is gone.
      log::warn("releasing the migrations lock failed", {{"error", e.what()}});
    }
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

  Status acquire() {
    const auto deadline = std::chrono::steady_clock::now() + kLockTimeout;
    auto pause = std::chrono::milliseconds(20);
    for (;;) {
      {
        pqxx::nontransaction tx(conn_);
        if (tx.exec_params1(kTryLock, lock_keys::kMigrations)[0].as<bool>()) {
          held_ = true;
          return Ok{};
        }
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return unavailable(
            "another fleetd has held the migrations lock for over 10 minutes; check which process "
            "holds advisory lock " +
            std::to_string(lock_keys::kMigrations) + " in pg_locks");
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(500));
    }
  }

 private:
  pqxx::connection_base& conn_;
  bool held_ = false;
};

}  // namespace

const std::vector<Migration>& bundled_migrations() {
  static const std::vector<Migration> migrations = [] {
    std::vector<Migration> out;
    for (int i = 0; i < detail::kEmbeddedMigrationCount; ++i) {
      const auto& m = detail::kEmbeddedMigrations[i];
      out.push_back({m.version, m.name, m.sql});
    }
    return out;
  }();
  return migrations;
}

std::string migration_checksum(const Migration& migration) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(migration.sql.data(), migration.sql.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

Result<MigrationReport> apply_migrations(pqxx::connection_base& conn, const std::vector<Migration>& migrations) {
  if (auto s = validate_list(migrations); !s.ok()) return s.error();
  const Migration* current = nullptr;
  try {
    AdvisoryLock lock(conn);
    if (auto s = lock.acquire(); !s.ok()) return s.error();
    std::vector<Applied> applied;
    {
      // Under the lock: CREATE TABLE IF NOT EXISTS is not safe against a concurrent creator on its own.
      pqxx::work tx(conn);
      tx.exec0(kCreateTable);
      applied = read_applied(tx);
      tx.commit();
    }
    auto version = check_recorded(applied, migrations);
    if (!version.ok()) return version.error();

    MigrationReport report;
    report.current_version = *version;
    for (std::size_t i = static_cast<std::size_t>(*version); i < migrations.size(); ++i) {
      current = &migrations[i];
      pqxx::work tx(conn);
      tx.exec(current->sql);
      tx.exec_params0(kInsertApplied, current->version, current->name, migration_checksum(*current));
      tx.commit();
      report.applied_now.push_back(current->version);
      report.current_version = current->version;
      log::info("migration applied", {{"version", current->version}, {"name", current->name}});
    }
    return report;
  } catch (const pqxx::broken_connection& e) {
    return unavailable(std::string("database connection lost while migrating: ") + e.what());
  } catch (const pqxx::in_doubt_error& e) {
    return unavailable(std::string("commit of migration ") + (current ? current->name : "?") +
                       " is in doubt (connection lost); restart fleetd to re-check: " + e.what());
  } catch (const std::exception& e) {
    std::string what = e.what();
    while (!what.empty() && what.back() == '\n') what.pop_back();
    if (current != nullptr) {
      return make_error(ErrorCode::kInternal, "migration " + current->name + " failed and was rolled back: " + what, {},
                        "migration-failed");
    }
    return make_error(ErrorCode::kInternal, "reading schema_migrations failed: " + what);
  }
}

Result<int> check_migrations(pqxx::connection_base& conn, const std::vector<Migration>& migrations) {
  if (auto s = validate_list(migrations); !s.ok()) return s.error();
  const int known = static_cast<int>(migrations.size());
  try {
    pqxx::read_transaction tx(conn);
    std::vector<Applied> applied;
    if (tx.exec1(kTableExists)[0].as<bool>()) applied = read_applied(tx);
    tx.commit();
    auto version = check_recorded(applied, migrations);
    if (!version.ok()) return version.error();
    if (*version < known) {
      return unavailable("database schema version " + std::to_string(*version) + " is older than this fleetd's " +
                             std::to_string(known) + "; migrations are applied when fleetd starts",
                         "schema-behind");
    }
    return *version;
  } catch (const std::exception& e) {
    return unavailable(std::string("cannot read schema_migrations: ") + e.what());
  }
}

}  // namespace fleet
