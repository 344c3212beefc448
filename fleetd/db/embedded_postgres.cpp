#include "fleetd/db/embedded_postgres.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "fleetd/db/child_process.hpp"
#include "fleetd/db/postgres_files.hpp"
#include "fleetd/db/postgres_settings.hpp"

namespace fleet {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;  // waits on another process: the OS clock (common/clock.hpp)
using pg::pg_failure;

constexpr std::chrono::seconds kStartTimeout{60};

// What start() works out on its way, step by step.
struct StartContext {
  EmbeddedPostgresOptions options;
  fs::path data_dir;  // canonical
  fs::path pgdata;    // data_dir/pg
  fs::path socket_dir;
  fs::path bin_dir;
  int data_major = 0;  // the cluster's PG_VERSION; 0 before the first initdb
  bool root = false;   // then the server runs as options.run_as_user through runuser
  passwd server_user{};
  std::vector<char> pwbuf = std::vector<char>(16384);
  uid_t server_uid = 0;
  gid_t server_gid = 0;
  std::vector<std::string> wrap;  // prefix for every PostgreSQL command
  SteadyClock::time_point deadline;

  std::vector<std::string> with_user(const std::vector<std::string>& argv) const {
    std::vector<std::string> full = wrap;
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
  }
  const passwd* owner() const { return root ? &server_user : nullptr; }
  std::string pg_ctl() const { return (bin_dir / "pg_ctl").string(); }
  Status make_server_dir(const fs::path& dir) const {
    if (mkdir(dir.c_str(), 0700) != 0 || (root && chown(dir.c_str(), server_uid, server_gid) != 0)) {
      return pg_failure("cannot create " + dir.string() + ": " + std::strerror(errno));
    }
    return Ok{};
  }
};

// Connects with a deadline: a server that was just adopted may still be finishing crash recovery.
Result<std::unique_ptr<pqxx::connection>> connect_until(const std::string& url, SteadyClock::time_point deadline,
                                                        pid_t pid_must_live) {
  std::string last;
  for (;;) {
    try {
      return std::make_unique<pqxx::connection>(url);
    } catch (const std::exception& e) {
      last = e.what();
    }
    if (SteadyClock::now() >= deadline || (pid_must_live > 0 && !pg::process_alive(pid_must_live))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  while (!last.empty() && last.back() == '\n') last.pop_back();
  return pg_failure("cannot connect to the embedded PostgreSQL server (" + url + "): " + last);
}

// The first component of `data_dir` the server user cannot traverse.
fs::path first_blocker(const std::string& runuser, const std::string& user, const fs::path& data_dir) {
  for (fs::path p = data_dir.root_path(); const auto& part : data_dir.relative_path()) {
    p /= part;
    auto r = pg::run_command({runuser, "-u", user, "--", "test", "-x", p.string()});
    if (r.ok() && r->exit_code != 0) return p;
  }
  return data_dir;
}

// Who runs the server: this process, or (as root, which PostgreSQL refuses) options.run_as_user via runuser, who
// must be able to reach the data directory.
Status resolve_server_user(StartContext& ctx) {
  ctx.root = geteuid() == 0;
  ctx.server_uid = geteuid();
  ctx.server_gid = getegid();
  if (!ctx.root) return Ok{};
  const std::string& user = ctx.options.run_as_user;
  passwd* pw = nullptr;
  if (getpwnam_r(user.c_str(), &ctx.server_user, ctx.pwbuf.data(), ctx.pwbuf.size(), &pw) != 0 || !pw) {
    return pg_failure("fleetd runs as root and PostgreSQL refuses root, but user '" + user +
                      "' to run it as does not exist; run scripts/setup (apt-get install postgresql-15 creates "
                      "'postgres') or run fleetd as an unprivileged user");
  }
  auto runuser = pg::find_runuser();
  if (!runuser) return pg_failure("runuser not found; install util-linux (scripts/setup)");
  ctx.wrap = {runuser->string(), "-u", user, "--"};
  ctx.server_uid = ctx.server_user.pw_uid;
  ctx.server_gid = ctx.server_user.pw_gid;
  // The server user must reach data_dir/pg: every parent needs search (x) permission for it.
  auto probe = pg::run_command(ctx.with_user({"test", "-x", ctx.data_dir.string()}));
  if (!probe.ok()) return probe.error();
  if (probe->exit_code == 0) return Ok{};
  const fs::path blocker = first_blocker(runuser->string(), user, ctx.data_dir);
  return pg_failure("PostgreSQL runs as user '" + user +
                    "' (fleetd runs as root, which PostgreSQL refuses), but that user cannot reach the data dir " +
                    ctx.data_dir.string() + ": " + blocker.string() +
                    " is not traversable for it. Choose a --data-dir it can reach (e.g. under /var/lib/fleetd) "
                    "or make the path traversable (chmod o+x " +
                    blocker.string() + ")");
}

// Binaries: those of the major that created the cluster when it exists.
Status choose_binaries(StartContext& ctx) {
  if (auto v = pg::read_file(ctx.pgdata / "PG_VERSION")) ctx.data_major = std::atoi(v->c_str());
  auto bin = pg::find_binaries(ctx.options.bin_dir, ctx.data_major);
  if (!bin.ok()) return bin.error();
  ctx.bin_dir = *bin;
  if (ctx.data_major == 0) return Ok{};
  auto bin_major = pg::binaries_major(*bin);
  if (!bin_major.ok()) return bin_major.error();
  if (*bin_major == ctx.data_major) return Ok{};
  const std::string data_major = std::to_string(ctx.data_major);
  return pg_failure("the data dir " + ctx.pgdata.string() + " was created by PostgreSQL " + data_major +
                    " but only PostgreSQL " + std::to_string(*bin_major) + " binaries are available (" + bin->string() +
                    "); install postgresql-" + data_major + " or upgrade the cluster with pg_upgrade");
}

// initdb into `scratch` with the C.UTF-8 locale, or C where the system has no C.UTF-8 (C sorts the same way, byte
// order, and UTF8 still holds any text).
Status run_initdb(const StartContext& ctx, const fs::path& scratch) {
  std::vector<std::string> initdb = {(ctx.bin_dir / "initdb").string(),
                                     "-D",
                                     scratch.string(),
                                     "-U",
                                     pg::kSuperuser,
                                     "--auth=trust",
                                     "-E",
                                     "UTF8",
                                     "--data-checksums"};
  if (!ctx.options.durable) initdb.push_back("--no-sync");
  auto with_locale = initdb;
  with_locale.push_back("--locale=C.UTF-8");
  auto r = pg::run_command(ctx.with_user(with_locale));
  if (!r.ok()) return r.error();
  if (r->exit_code == 0) return Ok{};
  fs::remove_all(scratch);
  if (auto s = ctx.make_server_dir(scratch); !s.ok()) return s;
  initdb.push_back("--locale=C");
  auto r2 = pg::run_checked(ctx.with_user(initdb), "initdb");
  if (!r2.ok()) return r2.error();
  return Ok{};
}

// First start: initdb into a scratch directory and rename it into place, so that a fleetd killed during initdb
// leaves nothing that looks like a cluster.
Status initialise_cluster(const StartContext& ctx) {
  if (fs::exists(ctx.pgdata)) {
    if (!fs::is_directory(ctx.pgdata) || !fs::is_empty(ctx.pgdata)) {
      return pg_failure(ctx.pgdata.string() +
                        " exists but is not a PostgreSQL data directory (no PG_VERSION); move it "
                        "away or choose another --data-dir");
    }
    fs::remove(ctx.pgdata);
  }
  const fs::path scratch = ctx.data_dir / "pg.initdb-tmp";
  fs::remove_all(scratch);
  if (auto s = ctx.make_server_dir(scratch); !s.ok()) return s;
  if (auto s = run_initdb(ctx, scratch); !s.ok()) return s;
  std::ofstream(scratch / "postgresql.conf", std::ios::app) << "\n" << pg::kIncludeLine << "\n";
  if (auto s = ctx.make_server_dir(scratch / "log"); !s.ok()) return s;
  if (auto s = pg::write_file_durably(scratch / pg::kConfFile, pg::server_settings(ctx.socket_dir, ctx.options.durable),
                                      ctx.owner());
      !s.ok()) {
    return s;
  }
  fs::rename(scratch, ctx.pgdata);
  pg::fsync_dir(ctx.data_dir);
  log::info("embedded postgres initialised", {{"pgdata", ctx.pgdata.string()}, {"bin_dir", ctx.bin_dir.string()}});
  return Ok{};
}

// A root fleetd may find a data dir that a non-root run (or a restore) left under another owner; a socket dir
// outside the data dir must be private.
Status fix_ownership(const StartContext& ctx) {
  struct stat st {};
  if (stat(ctx.pgdata.c_str(), &st) != 0) {
    return pg_failure("cannot stat " + ctx.pgdata.string() + ": " + std::strerror(errno));
  }
  if (ctx.root && st.st_uid != ctx.server_uid) {
    if (auto s = pg::chown_tree(ctx.pgdata, ctx.server_user); !s.ok()) return s;
  }
  if (ctx.socket_dir != ctx.pgdata) return pg::ensure_private_dir(ctx.socket_dir, ctx.server_uid, ctx.server_gid);
  return Ok{};
}

// The operating-system users that may connect (pg::ident_map): fleetd's own, the server's, and root. Empty when
// fleetd's user has no name.
std::vector<std::string> allowed_os_users(const StartContext& ctx) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(geteuid(), &pw, buf.data(), buf.size(), &found) != 0 || !found) return {};
  std::vector<std::string> users = {found->pw_name, "root"};
  if (ctx.root) users.push_back(ctx.server_user.pw_name);
  return users;
}

// pg_hba.conf and pg_ident.conf, at every start: a cluster initialised before these were written has `trust`.
Status write_client_auth(const StartContext& ctx) {
  const std::vector<std::string> users = allowed_os_users(ctx);
  if (users.empty()) {
    log::warn(
        "fleetd's user id has no name, so the embedded PostgreSQL cannot check who connects (peer); it "
        "relies on its socket directory's mode 0700",
        {{"uid", static_cast<long long>(geteuid())}});
  }
  if (auto s = pg::write_file_durably(ctx.pgdata / pg::kIdentFile, pg::ident_map(users), ctx.owner()); !s.ok()) {
    return s;
  }
  return pg::write_file_durably(ctx.pgdata / pg::kHbaFile, pg::hba_rules(!users.empty()), ctx.owner());
}

// A previous fleetd killed with -9 leaves its server running: adopted (true) when it is this data dir's and answers
// on the socket we expect; restarted when it runs with other settings.
Result<bool> adopt_running(const StartContext& ctx) {
  auto pf = pg::read_pid_file(ctx.pgdata);
  if (!pf || !pg::is_live_postmaster(pf->pid, ctx.pgdata)) return false;
  if (pf->socket_dir != ctx.socket_dir.string() || pf->port != pg::kPort) {
    // Started with other settings (e.g. the data dir moved, so the socket dir changed): restart it.
    log::warn("embedded postgres runs with another socket dir; restarting it",
              {{"pgdata", ctx.pgdata.string()}, {"socket_dir", pf->socket_dir}});
    auto r = pg::run_checked(
        ctx.with_user({ctx.pg_ctl(), "stop", "-D", ctx.pgdata.string(), "-m", "fast", "-w", "-t", "60", "-s"}),
        "pg_ctl stop");
    if (!r.ok()) return r.error();
    return false;
  }
  auto conn = connect_until(pg::connection_url(ctx.socket_dir, "postgres"), ctx.deadline, pf->pid);
  if (!conn.ok()) {
    if (!pg::process_alive(pf->pid)) return false;
    return pg_failure("a PostgreSQL server (pid " + std::to_string(pf->pid) + ") runs in " + ctx.pgdata.string() +
                      " but does not accept connections: " + conn.error().message + "; see " +
                      (ctx.pgdata / "log").string() + ", or stop it with: " + ctx.pg_ctl() + " stop -D " +
                      ctx.pgdata.string());
  }
  pqxx::nontransaction tx(**conn);
  const std::string dir = tx.exec1("SHOW data_directory")[0].as<std::string>();
  std::error_code same_ec;
  if (!fs::equivalent(dir, ctx.pgdata, same_ec)) {
    return pg_failure("the server answering on " + ctx.socket_dir.string() + " serves " + dir + ", not " +
                      ctx.pgdata.string() + "; stop it (pg_ctl stop -D " + dir + ")");
  }
  // Its client authentication may predate this fleetd's (trust): the rules are rewritten and reloaded, which
  // does not drop connections.
  if (auto s = write_client_auth(ctx); !s.ok()) return s.error();
  tx.exec1("SELECT pg_reload_conf()");
  log::info("embedded postgres adopted", {{"pgdata", ctx.pgdata.string()}, {"pid", pf->pid}});
  return true;
}

// PostgreSQL removes lock files of dead servers itself, but not those naming a PID that kill() still finds: a
// zombie (see process_alive) or, after a reboot, an unrelated process. Then the settings of this fleetd.
Status prepare_start(const StartContext& ctx) {
  const std::string socket_name = ".s.PGSQL." + std::to_string(pg::kPort);
  for (const fs::path& lock_file : {ctx.pgdata / "postmaster.pid", ctx.socket_dir / (socket_name + ".lock")}) {
    auto content = pg::read_file(lock_file);
    const pid_t pid = content ? static_cast<pid_t>(std::atol(content->c_str())) : 0;
    if (pid > 0 && kill(pid, 0) == 0 && !pg::is_live_postmaster(pid, ctx.pgdata)) {
      log::warn("removing stale lock file", {{"file", lock_file.string()}, {"pid", pid}});
      fs::remove(lock_file);
    }
  }
  if (auto s = pg::write_file_durably(ctx.pgdata / pg::kConfFile,
                                      pg::server_settings(ctx.socket_dir, ctx.options.durable), ctx.owner());
      !s.ok()) {
    return s;
  }
  if (auto s = write_client_auth(ctx); !s.ok()) return s;
  if (auto conf = pg::read_file(ctx.pgdata / "postgresql.conf");
      conf && conf->find(pg::kIncludeLine) == std::string::npos) {
    std::ofstream(ctx.pgdata / "postgresql.conf", std::ios::app) << "\n" << pg::kIncludeLine << "\n";
  }
  if (!fs::exists(ctx.pgdata / "log")) return ctx.make_server_dir(ctx.pgdata / "log");
  return Ok{};
}

// pg_ctl start, retried while the backends of a postmaster that was killed outright still hold its shared memory.
Status start_server(const StartContext& ctx) {
  if (auto s = prepare_start(ctx); !s.ok()) return s;
  const fs::path log_dir = ctx.pgdata / "log";
  // Output from before the logging collector takes over (bad settings, a locked data dir) lands here.
  const fs::path startup_log = log_dir / "startup.log";
  const std::vector<std::string> start_cmd = ctx.with_user(
      {ctx.pg_ctl(), "start", "-D", ctx.pgdata.string(), "-l", startup_log.string(), "-w", "-t", "60", "-s"});
  for (int attempt = 1;; ++attempt) {
    auto r = pg::run_command(start_cmd);
    if (!r.ok()) return r.error();
    if (r->exit_code == 0) break;
    std::string log_tail = startup_log.string() + ":\n" + pg::tail_of(startup_log, 1500);
    if (fs::path server_log = pg::newest_server_log(log_dir); !server_log.empty()) {
      log_tail += "\n" + server_log.string() + ":\n" + pg::tail_of(server_log, 1500);
    }
    if (attempt < 5 && log_tail.find("is still in use") != std::string::npos) {
      log::warn("old server processes still hold shared memory; retrying start", {{"attempt", attempt}});
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    return pg_failure("cannot start PostgreSQL in " + ctx.pgdata.string() + " (" + pg::describe_argv(start_cmd) +
                      " exited " + std::to_string(r->exit_code) + "): " + r->output + "\n" + log_tail);
  }
  log::info("embedded postgres started", {{"pgdata", ctx.pgdata.string()}, {"socket_dir", ctx.socket_dir.string()}});
  return Ok{};
}

// The application database, created on first start.
Status ensure_database(const StartContext& ctx) {
  auto conn = connect_until(pg::connection_url(ctx.socket_dir, "postgres"), ctx.deadline, 0);
  if (!conn.ok()) return conn.error();
  pqxx::nontransaction tx(**conn);
  if (tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", ctx.options.database).empty()) {
    tx.exec0("CREATE DATABASE " + tx.quote_name(ctx.options.database));
    log::info("embedded postgres created database", {{"database", ctx.options.database}});
  }
  return Ok{};
}

}  // namespace

std::string EmbeddedPostgres::connection_url_for(const std::string& database) const {
  return pg::connection_url(socket_dir_, database);
}

Status EmbeddedPostgres::lock_data_dir(const std::filesystem::path& data_dir) {
  // One owner per data directory. O_CLOEXEC keeps the lock out of the server, so it dies with this process.
  const fs::path lock_path = data_dir / "embedded-postgres.lock";
  lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return pg_failure("cannot open " + lock_path.string() + ": " + std::strerror(errno));
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return pg_failure("data dir " + data_dir.string() +
                      " is in use by another fleetd (it holds embedded-postgres.lock); stop it or choose another "
                      "--data-dir");
  }
  return Ok{};
}

Result<std::unique_ptr<EmbeddedPostgres>> EmbeddedPostgres::start(const EmbeddedPostgresOptions& options) try {
  if (options.data_dir.empty()) return make_error(ErrorCode::kInvalid, "embedded PostgreSQL needs a data dir");
  if (options.database.empty()) return make_error(ErrorCode::kInvalid, "embedded PostgreSQL needs a database");
  std::unique_ptr<EmbeddedPostgres> self(new EmbeddedPostgres());
  // Until the server runs there is nothing to stop; a failed start must not run pg_ctl stop on someone's server.
  self->stopped_ = true;

  StartContext ctx;
  ctx.options = options;
  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  if (ec) return pg_failure("cannot create data dir " + options.data_dir.string() + ": " + ec.message());
  // Canonical, so that it compares equal to what the postmaster records and to /proc/<pid>/cwd.
  ctx.data_dir = fs::canonical(options.data_dir);
  if (auto s = pg::check_path_chars(ctx.data_dir); !s.ok()) return s.error();
  ctx.pgdata = ctx.data_dir / "pg";
  self->pgdata_ = ctx.pgdata;
  if (auto s = self->lock_data_dir(ctx.data_dir); !s.ok()) return s.error();
  if (auto s = resolve_server_user(ctx); !s.ok()) return s.error();
  if (ctx.root) self->run_as_ = options.run_as_user;
  ctx.socket_dir = pg::socket_dir_for(ctx.data_dir, ctx.pgdata);
  self->socket_dir_ = ctx.socket_dir;
  if (auto s = choose_binaries(ctx); !s.ok()) return s.error();
  self->bin_dir_ = ctx.bin_dir;
  if (ctx.data_major == 0) {
    if (auto s = initialise_cluster(ctx); !s.ok()) return s.error();
  }
  if (auto s = fix_ownership(ctx); !s.ok()) return s.error();

  ctx.deadline = SteadyClock::now() + kStartTimeout;
  auto adopted = adopt_running(ctx);
  if (!adopted.ok()) return adopted.error();
  self->adopted_ = *adopted;
  if (!self->adopted_) {
    if (auto s = start_server(ctx); !s.ok()) return s.error();
  }
  self->stopped_ = false;  // from here on a failure stops the server again (the destructor)
  if (auto s = ensure_database(ctx); !s.ok()) return s.error();
  self->url_ = pg::connection_url(ctx.socket_dir, options.database);
  return self;
} catch (const std::exception& e) {
  return make_error(ErrorCode::kUnavailable, std::string("embedded PostgreSQL: ") + e.what());
}

EmbeddedPostgres::~EmbeddedPostgres() {
  stop();
}

void EmbeddedPostgres::stop() {
  if (!stopped_) {
    stopped_ = true;
    // pg_ctl would wait its full timeout on a postmaster that is already a zombie.
    auto pf = pg::read_pid_file(pgdata_);
    if (!pf || !pg::process_alive(pf->pid)) {
      log::warn("embedded postgres was not running at stop", {{"pgdata", pgdata_.string()}});
    } else {
      std::vector<std::string> argv;
      if (!run_as_.empty()) {
        if (auto runuser = pg::find_runuser()) argv = {runuser->string(), "-u", run_as_, "--"};
      }
      const std::vector<std::string> stop_cmd = {
          (bin_dir_ / "pg_ctl").string(), "stop", "-D", pgdata_.string(), "-m", "fast", "-w", "-t", "60", "-s"};
      argv.insert(argv.end(), stop_cmd.begin(), stop_cmd.end());
      auto r = pg::run_command(argv);
      if (!r.ok() || r->exit_code != 0) {
        log::warn("embedded postgres stop failed",
                  {{"pgdata", pgdata_.string()}, {"output", r.ok() ? r->output : r.error().message}});
      } else {
        log::info("embedded postgres stopped", {{"pgdata", pgdata_.string()}});
      }
    }
    if (!socket_dir_.empty() && socket_dir_ != pgdata_) rmdir(socket_dir_.c_str());  // only if empty
  }
  if (lock_fd_ >= 0) {
    close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
}

}  // namespace fleet
