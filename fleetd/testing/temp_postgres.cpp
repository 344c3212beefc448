#include "fleetd/testing/temp_postgres.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <pqxx/pqxx>

#include "fleetd/db/migrations.hpp"

namespace fleet::testing {
namespace {
constexpr const char* kTemplate = "fleet_test_template";
}

Result<std::unique_ptr<TempPostgres>> TempPostgres::start(bool durable) {
  char pattern[] = "/tmp/fleet-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    return make_error(ErrorCode::kInternal, std::string("mkdtemp: ") + std::strerror(errno));
  }
  std::unique_ptr<TempPostgres> self(new TempPostgres());
  self->dir_ = pattern;
  if (chmod(pattern, 0755) != 0) {
    return make_error(ErrorCode::kInternal, std::string("chmod ") + pattern + ": " + std::strerror(errno));
  }
  EmbeddedPostgresOptions options;
  options.data_dir = self->dir_;
  options.durable = durable;
  auto server = EmbeddedPostgres::start(options);
  if (!server.ok()) return server.error();  // the destructor removes the directory
  self->server_ = std::move(server).value();
  return self;
}

Result<TempPostgres*> TempPostgres::shared() {
  static std::mutex mutex;
  static std::unique_ptr<TempPostgres> instance;
  std::lock_guard lock(mutex);
  if (!instance) {
    auto started = start();
    if (!started.ok()) return started.error();
    instance = std::move(started).value();
  }
  return instance.get();
}

TempPostgres::~TempPostgres() {
  server_.reset();  // stops the server first
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

Result<std::string> TempPostgres::create_database(const std::string& prefix, bool migrated) try {
  std::lock_guard lock(mutex_);
  pqxx::connection admin(server_->connection_url_for("postgres"));
  if (migrated && !template_ready_) {
    {
      pqxx::nontransaction tx(admin);
      tx.exec0(std::string("DROP DATABASE IF EXISTS ") + kTemplate);
      tx.exec0(std::string("CREATE DATABASE ") + kTemplate);
    }
    pqxx::connection conn(server_->connection_url_for(kTemplate));
    auto report = apply_migrations(conn, bundled_migrations());
    if (!report.ok()) return report.error();
    template_ready_ = true;
  }  // the template's connection is closed here: CREATE DATABASE … TEMPLATE needs it unused
  const std::string name = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(next_db_++);
  pqxx::nontransaction tx(admin);
  tx.exec0("CREATE DATABASE " + tx.quote_name(name) +
           (migrated ? std::string(" TEMPLATE ") + kTemplate : std::string()));
  return server_->connection_url_for(name);
} catch (const std::exception& e) {
  return make_error(ErrorCode::kUnavailable, std::string("create test database: ") + e.what());
}

}  // namespace fleet::testing
