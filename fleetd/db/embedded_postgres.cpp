#include "fleetd/db/embedded_postgres.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>
#include <vector>

#include "common/log.hpp"

extern char** environ;

namespace fleet {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kSuperuser = "fleet";  // initdb -U: the bootstrap superuser fleetd connects as
constexpr int kPort = 5432;                  // only names the socket file; there is no TCP listener
constexpr std::size_t kMaxSocketPath = 107;  // sizeof(sockaddr_un::sun_path) - 1 for the NUL
constexpr std::chrono::seconds kStartTimeout{60};
constexpr const char* kConfFile = "fleetd.conf";
constexpr const char* kIncludeLine = "include 'fleetd.conf'  # added by fleetd; settings live there";

Error fail(std::string message) {
  return make_error(ErrorCode::kUnavailable, std::move(message));
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes: argv only (no shell), stdin from /dev/null, stdout+stderr captured, cwd "/" (the server user
// may not be able to read ours), every other descriptor closed so the server never inherits fleetd's sockets.

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr interleaved
};

std::string describe_argv(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

Result<CommandResult> run_command(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return fail(std::string("pipe2: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addchdir_np(&actions, "/");
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return fail("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  CommandResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// Runs argv (as `run_as` through runuser when set) and turns a non-zero exit into an error quoting its output.
Result<CommandResult> run_checked(const std::vector<std::string>& argv, const std::string& what) {
  auto r = run_command(argv);
  if (!r.ok()) return r.error();
  if (r->exit_code != 0) {
    std::string out = r->output;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return fail(what + " failed (exit " + std::to_string(r->exit_code) + ", command: " + describe_argv(argv) +
                "): " + out);
  }
  return r;
}

bool is_executable(const fs::path& p) {
  return access(p.c_str(), X_OK) == 0 && !fs::is_directory(p);
}

std::optional<fs::path> find_runuser() {
  for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"}) {
    if (is_executable(p)) return fs::path(p);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------------------
// Binaries.

bool has_server_binaries(const fs::path& dir) {
  return is_executable(dir / "initdb") && is_executable(dir / "pg_ctl") && is_executable(dir / "postgres");
}

// Prefers `wanted_major` (the data directory's PG_VERSION) so that a machine with several majors installed keeps
// running the one that created the cluster; otherwise the newest.
Result<fs::path> find_binaries(const fs::path& explicit_dir, int wanted_major) {
  if (!explicit_dir.empty()) {
    if (has_server_binaries(explicit_dir)) return explicit_dir;
    return fail("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in " + explicit_dir.string() +
                "; point the bin dir at a PostgreSQL installation, or run scripts/setup "
                "(apt-get install postgresql-15)");
  }
  std::vector<std::pair<int, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    if (has_server_binaries(entry.path() / "bin")) found.emplace_back(std::stoi(name), entry.path() / "bin");
  }
  std::sort(found.begin(), found.end());
  for (const auto& [major, dir] : found) {
    if (major == wanted_major) return dir;
  }
  if (!found.empty()) return found.back().second;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
      if (!dir.empty() && has_server_binaries(dir)) return fs::path(dir);
    }
  }
  return fail(
      "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in /usr/lib/postgresql/*/bin or PATH; "
      "run scripts/setup (or apt-get install postgresql-15), or pass --database-url to use an external server");
}

// "postgres (PostgreSQL) 15.14 (Debian …)" → 15.
Result<int> binaries_major(const fs::path& bin_dir) {
  auto r = run_checked({(bin_dir / "postgres").string(), "--version"}, "postgres --version");
  if (!r.ok()) return r.error();
  auto pos = r->output.find(") ");
  if (pos == std::string::npos) return fail("cannot parse `postgres --version` output: " + r->output);
  return std::atoi(r->output.c_str() + pos + 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Files and ownership.

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status write_file_durably(const fs::path& p, const std::string& content, const passwd* owner) {
  const fs::path tmp = p.string() + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot write " + tmp.string() + ": " + std::strerror(errno));
  bool ok = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = ok && (owner == nullptr || fchown(fd, owner->pw_uid, owner->pw_gid) == 0);
  ok = ok && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), p.c_str()) != 0) {
    err = ok ? errno : err;
    unlink(tmp.c_str());
    return fail("cannot write " + p.string() + ": " + std::strerror(err));
  }
  return Ok{};
}

void fsync_dir(const fs::path& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

Status chown_tree(const fs::path& root, const passwd& owner) {
  auto one = [&](const fs::path& p) -> Status {
    if (lchown(p.c_str(), owner.pw_uid, owner.pw_gid) != 0) {
      return fail("cannot chown " + p.string() + " to " + owner.pw_name + ": " + std::strerror(errno));
    }
    return Ok{};
  };
  if (auto s = one(root); !s.ok()) return s;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (auto s = one(it->path()); !s.ok()) return s;
  }
  if (ec) return fail("cannot walk " + root.string() + ": " + ec.message());
  return Ok{};
}

// Creates `dir` (mode 0700) for the server user, or checks that an existing one belongs to it and is private: a
// socket directory under /tmp could otherwise be planted by another local user.
Status ensure_private_dir(const fs::path& dir, uid_t uid, gid_t gid) {
  if (mkdir(dir.c_str(), 0700) == 0) {
    if (geteuid() == 0 && chown(dir.c_str(), uid, gid) != 0) {
      return fail("cannot chown " + dir.string() + ": " + std::strerror(errno));
    }
  } else if (errno != EEXIST) {
    return fail("cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) return fail("cannot stat " + dir.string() + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0) {
    return fail(dir.string() + " exists but is not a private (0700) directory owned by uid " + std::to_string(uid) +
                "; remove it and start again");
  }
  return Ok{};
}

// pg_ctl hands -D and -l to /bin/sh inside double quotes, so these characters would be interpreted there.
Status check_path_chars(const fs::path& p) {
  for (char c : p.string()) {
    if (c == '"' || c == '\\' || c == '$' || c == '`' || static_cast<unsigned char>(c) < 0x20) {
      return make_error(ErrorCode::kInvalid, "data directory " + p.string() +
                                                 " contains a character pg_ctl cannot pass through its shell "
                                                 "(\", \\, $, ` or a control character); choose another --data-dir");
    }
  }
  return Ok{};
}

std::string conf_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string percent_encode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string make_url(const fs::path& socket_dir, const std::string& database) {
  return "postgresql:///" + percent_encode(database) + "?host=" + percent_encode(socket_dir.string()) +
         "&port=" + std::to_string(kPort) + "&user=" + kSuperuser;
}

// Stable across builds and platforms (std::hash is not), so a data dir always maps to the same socket dir.
std::string fnv1a_hex(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string server_settings(const fs::path& socket_dir, bool durable) {
  // Sized for a small dedicated box (2 cores, ~24 GiB) that also runs fleetd itself. Durability is not
  // negotiable: an acknowledged write must survive fleetd, the server or the machine dying.
  std::string c;
  c += "# Written by fleetd at every start; local changes are overwritten (ALTER SYSTEM still wins).\n";
  c += "listen_addresses = ''\n";
  c += "port = " + std::to_string(kPort) + "\n";
  c += "unix_socket_directories = " + conf_quote(socket_dir.string()) + "\n";
  // 0700 is enough in both modes: a non-root fleetd is the server user, and a root fleetd connects through
  // CAP_DAC_OVERRIDE. Nobody else may connect (authentication is trust).
  c += "unix_socket_permissions = 0700\n";
  c += "max_connections = 100\n";
  c += "shared_buffers = 256MB\n";
  c += "effective_cache_size = 4GB\n";
  c += "work_mem = 8MB\n";
  c += "maintenance_work_mem = 128MB\n";
  c += "max_wal_size = 1GB\n";
  const std::string on = durable ? "on" : "off";
  c += "fsync = " + on + "\n";
  c += "synchronous_commit = " + on + "\n";
  c += "full_page_writes = " + on + "\n";
  // Crash recovery first syncs the data directory; one syncfs() is seconds faster than an fsync per file.
  c += "recovery_init_sync_method = syncfs\n";
  c += "timezone = 'UTC'\n";
  c += "logging_collector = on\n";
  c += "log_directory = 'log'\n";
  c += "log_filename = 'postgresql-%a.log'\n";  // one file per weekday, truncated a week later
  c += "log_rotation_age = 1d\n";
  c += "log_rotation_size = 0\n";
  c += "log_truncate_on_rotation = on\n";
  c += "log_line_prefix = '%m [%p] %q%u@%d '\n";
  c += "log_min_duration_statement = 1000\n";
  return c;
}

struct PidFile {
  pid_t pid = 0;
  std::string data_dir;
  int port = 0;
  std::string socket_dir;
  std::string status;  // "starting", "ready", "stopping", "standby"
};

// postmaster.pid: PID, data dir, start time, port, first socket dir, listen address, shmem key, status.
std::optional<PidFile> read_pid_file(const fs::path& pgdata) {
  auto content = read_file(pgdata / "postmaster.pid");
  if (!content) return std::nullopt;
  std::vector<std::string> lines;
  std::stringstream ss(*content);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  PidFile pf;
  if (lines.empty()) return std::nullopt;
  pf.pid = static_cast<pid_t>(std::atol(lines[0].c_str()));
  if (lines.size() > 1) pf.data_dir = lines[1];
  if (lines.size() > 3) pf.port = std::atoi(lines[3].c_str());
  if (lines.size() > 4) pf.socket_dir = lines[4];
  if (lines.size() > 7) {
    pf.status = lines[7];
    pf.status.erase(pf.status.find_last_not_of(" \n") + 1);
  }
  if (pf.pid <= 0) return std::nullopt;
  return pf;
}

// kill(pid, 0) succeeds on a zombie, and an orphaned postmaster stays one where PID 1 does not reap (some
// container inits).
bool process_alive(pid_t pid) {
  if (kill(pid, 0) != 0) return false;  // ESRCH: gone; EPERM: not ours (PostgreSQL also treats it as dead)
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  auto paren = stat->rfind(')');  // "pid (comm) S …": comm may contain spaces and parentheses
  return paren == std::string::npos || paren + 2 >= stat->size() || (*stat)[paren + 2] != 'Z';
}

// Alive and (when /proc says so) running in this data directory: after a reboot the PID may belong to another
// process, and then the file is simply stale.
bool is_live_postmaster(pid_t pid, const fs::path& pgdata) {
  if (!process_alive(pid)) return false;
  std::error_code ec;
  fs::path cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  if (ec) return true;  // cannot tell; let the connection check decide
  return cwd == pgdata;
}

// The newest server log: once the logging collector runs, startup failures are reported there.
fs::path newest_server_log(const fs::path& log_dir) {
  fs::path best;
  fs::file_time_type best_time{};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(log_dir, ec)) {
    if (e.path().filename() == "startup.log") continue;
    auto t = e.last_write_time(ec);
    if (!ec && (best.empty() || t > best_time)) {
      best = e.path();
      best_time = t;
    }
  }
  return best;
}

std::string tail_of(const fs::path& p, std::size_t max_bytes) {
  auto content = read_file(p);
  if (!content || content->empty()) return "";
  if (content->size() > max_bytes) content = content->substr(content->size() - max_bytes);
  while (!content->empty() && content->back() == '\n') content->pop_back();
  return *content;
}

// Connects with a deadline: a server that was just adopted may still be finishing crash recovery.
Result<std::unique_ptr<pqxx::connection>> connect_until(const std::string& url, Clock::time_point deadline,
                                                        pid_t pid_must_live) {
  std::string last;
  for (;;) {
    try {
      return std::make_unique<pqxx::connection>(url);
    } catch (const std::exception& e) {
      last = e.what();
    }
    if (Clock::now() >= deadline || (pid_must_live > 0 && !process_alive(pid_must_live))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  while (!last.empty() && last.back() == '\n') last.pop_back();
  return fail("cannot connect to the embedded PostgreSQL server (" + url + "): " + last);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

std::string EmbeddedPostgres::connection_url_for(const std::string& database) const {
  return make_url(socket_dir_, database);
}

Result<std::unique_ptr<EmbeddedPostgres>> EmbeddedPostgres::start(const EmbeddedPostgresOptions& options) try {
  if (options.data_dir.empty()) return make_error(ErrorCode::kInvalid, "embedded PostgreSQL needs a data dir");
  if (options.database.empty()) return make_error(ErrorCode::kInvalid, "embedded PostgreSQL needs a database");

  std::unique_ptr<EmbeddedPostgres> self(new EmbeddedPostgres());
  // Until the server runs there is nothing to stop; a failed start must not run pg_ctl stop on someone's server.
  self->stopped_ = true;

  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  if (ec) return fail("cannot create data dir " + options.data_dir.string() + ": " + ec.message());
  // Canonical, so that it compares equal to what the postmaster records and to /proc/<pid>/cwd.
  const fs::path data_dir = fs::canonical(options.data_dir);
  if (auto s = check_path_chars(data_dir); !s.ok()) return s.error();
  const fs::path pgdata = data_dir / "pg";
  self->pgdata_ = pgdata;

  // One owner per data directory. O_CLOEXEC keeps the lock out of the server, so it dies with this process.
  const fs::path lock_path = data_dir / "embedded-postgres.lock";
  self->lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (self->lock_fd_ < 0) return fail("cannot open " + lock_path.string() + ": " + std::strerror(errno));
  if (flock(self->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return fail("data dir " + data_dir.string() +
                " is in use by another fleetd (it holds embedded-postgres.lock); stop it or choose another "
                "--data-dir");
  }

  // Who runs the server.
  const bool root = geteuid() == 0;
  passwd server_user{};
  std::vector<char> pwbuf(16384);
  passwd* pw = nullptr;
  std::vector<std::string> wrap;  // prefix for every PostgreSQL command
  if (root) {
    if (getpwnam_r(options.run_as_user.c_str(), &server_user, pwbuf.data(), pwbuf.size(), &pw) != 0 || !pw) {
      return fail("fleetd runs as root and PostgreSQL refuses root, but user '" + options.run_as_user +
                  "' to run it as does not exist; run scripts/setup (apt-get install postgresql-15 creates "
                  "'postgres') or run fleetd as an unprivileged user");
    }
    auto runuser = find_runuser();
    if (!runuser) return fail("runuser not found; install util-linux (scripts/setup)");
    wrap = {runuser->string(), "-u", options.run_as_user, "--"};
    self->run_as_ = options.run_as_user;

    // The server user must reach data_dir/pg: every parent needs search (x) permission for it.
    auto probe = run_command({runuser->string(), "-u", options.run_as_user, "--", "test", "-x", data_dir.string()});
    if (!probe.ok()) return probe.error();
    if (probe->exit_code != 0) {
      fs::path blocker = data_dir;
      for (fs::path p = data_dir.root_path(); auto part : data_dir.relative_path()) {
        p /= part;
        auto r = run_command({runuser->string(), "-u", options.run_as_user, "--", "test", "-x", p.string()});
        if (r.ok() && r->exit_code != 0) {
          blocker = p;
          break;
        }
      }
      return fail("PostgreSQL runs as user '" + options.run_as_user +
                  "' (fleetd runs as root, which PostgreSQL refuses), but that user cannot reach the data dir " +
                  data_dir.string() + ": " + blocker.string() +
                  " is not traversable for it. Choose a --data-dir it can reach (e.g. under /var/lib/fleetd) "
                  "or make the path traversable (chmod o+x " +
                  blocker.string() + ")");
    }
  }
  const uid_t server_uid = root ? server_user.pw_uid : geteuid();
  const gid_t server_gid = root ? server_user.pw_gid : getegid();
  auto with_user = [&](std::vector<std::string> argv) {
    std::vector<std::string> full = wrap;
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
  };

  // Socket dir: the data dir itself when the socket path fits in sun_path, else a short private one in /tmp.
  const std::string socket_name = ".s.PGSQL." + std::to_string(kPort);
  fs::path socket_dir = pgdata;
  if ((pgdata / socket_name).string().size() > kMaxSocketPath) {
    socket_dir = fs::path("/tmp") / ("fleetd-pg-" + fnv1a_hex(data_dir.string()));
  }
  self->socket_dir_ = socket_dir;

  // Binaries: those of the major that created the cluster when it exists.
  int data_major = 0;
  if (auto v = read_file(pgdata / "PG_VERSION")) data_major = std::atoi(v->c_str());
  auto bin = find_binaries(options.bin_dir, data_major);
  if (!bin.ok()) return bin.error();
  self->bin_dir_ = *bin;
  const std::string pg_ctl = (*bin / "pg_ctl").string();
  if (data_major != 0) {
    auto bin_major = binaries_major(*bin);
    if (!bin_major.ok()) return bin_major.error();
    if (*bin_major != data_major) {
      return fail("the data dir " + pgdata.string() + " was created by PostgreSQL " + std::to_string(data_major) +
                  " but only PostgreSQL " + std::to_string(*bin_major) + " binaries are available (" + bin->string() +
                  "); install postgresql-" + std::to_string(data_major) + " or upgrade the cluster with pg_upgrade");
    }
  }

  // First start: initdb into a scratch directory and rename it into place, so that a fleetd killed during initdb
  // leaves nothing that looks like a cluster.
  if (data_major == 0) {
    if (fs::exists(pgdata)) {
      if (!fs::is_directory(pgdata) || !fs::is_empty(pgdata)) {
        return fail(pgdata.string() +
                    " exists but is not a PostgreSQL data directory (no PG_VERSION); move it "
                    "away or choose another --data-dir");
      }
      fs::remove(pgdata);
    }
    const fs::path scratch = data_dir / "pg.initdb-tmp";
    fs::remove_all(scratch);
    if (mkdir(scratch.c_str(), 0700) != 0)
      return fail("cannot create " + scratch.string() + ": " + std::strerror(errno));
    if (root && chown(scratch.c_str(), server_uid, server_gid) != 0) {
      return fail("cannot chown " + scratch.string() + ": " + std::strerror(errno));
    }
    std::vector<std::string> initdb = {
        (*bin / "initdb").string(), "-D", scratch.string(), "-U", kSuperuser, "--auth=trust", "-E", "UTF8",
        "--data-checksums"};
    if (!options.durable) initdb.push_back("--no-sync");
    auto r = run_command(with_user([&] {
      auto a = initdb;
      a.push_back("--locale=C.UTF-8");
      return a;
    }()));
    if (!r.ok()) return r.error();
    if (r->exit_code != 0) {
      // No C.UTF-8 locale on this system: C sorts the same way (byte order) and UTF8 still holds any text.
      fs::remove_all(scratch);
      mkdir(scratch.c_str(), 0700);
      if (root && chown(scratch.c_str(), server_uid, server_gid) != 0) {
        return fail("cannot chown " + scratch.string() + ": " + std::strerror(errno));
      }
      initdb.push_back("--locale=C");
      auto r2 = run_checked(with_user(initdb), "initdb");
      if (!r2.ok()) return r2.error();
    }
    std::ofstream(scratch / "postgresql.conf", std::ios::app) << "\n" << kIncludeLine << "\n";
    if (mkdir((scratch / "log").c_str(), 0700) != 0 ||
        (root && chown((scratch / "log").c_str(), server_uid, server_gid) != 0)) {
      return fail("cannot create " + (scratch / "log").string() + ": " + std::strerror(errno));
    }
    if (auto s = write_file_durably(scratch / kConfFile, server_settings(socket_dir, options.durable),
                                    root ? &server_user : nullptr);
        !s.ok()) {
      return s.error();
    }
    fs::rename(scratch, pgdata);
    fsync_dir(data_dir);
    log::info("embedded postgres initialised", {{"pgdata", pgdata.string()}, {"bin_dir", bin->string()}});
  }

  // A root fleetd may find a data dir that a non-root run (or a restore) left under another owner.
  struct stat st {};
  if (stat(pgdata.c_str(), &st) != 0) return fail("cannot stat " + pgdata.string() + ": " + std::strerror(errno));
  if (root && st.st_uid != server_uid) {
    if (auto s = chown_tree(pgdata, server_user); !s.ok()) return s.error();
  }
  if (socket_dir != pgdata) {
    if (auto s = ensure_private_dir(socket_dir, server_uid, server_gid); !s.ok()) return s.error();
  }

  // A previous fleetd killed with -9 leaves its server running: adopt it when it is this data dir's and answers
  // on the socket we expect.
  auto deadline = Clock::now() + kStartTimeout;
  if (auto pf = read_pid_file(pgdata)) {
    if (is_live_postmaster(pf->pid, pgdata)) {
      if (pf->socket_dir == socket_dir.string() && pf->port == kPort) {
        auto conn = connect_until(make_url(socket_dir, "postgres"), deadline, pf->pid);
        if (conn.ok()) {
          pqxx::nontransaction tx(**conn);
          const std::string dir = tx.exec1("SHOW data_directory")[0].as<std::string>();
          std::error_code same_ec;
          if (!fs::equivalent(dir, pgdata, same_ec)) {
            return fail("the server answering on " + socket_dir.string() + " serves " + dir + ", not " +
                        pgdata.string() + "; stop it (pg_ctl stop -D " + dir + ")");
          }
          self->adopted_ = true;
          log::info("embedded postgres adopted", {{"pgdata", pgdata.string()}, {"pid", pf->pid}});
        } else if (process_alive(pf->pid)) {
          return fail("a PostgreSQL server (pid " + std::to_string(pf->pid) + ") runs in " + pgdata.string() +
                      " but does not accept connections: " + conn.error().message + "; see " +
                      (pgdata / "log").string() + ", or stop it with: " + pg_ctl + " stop -D " + pgdata.string());
        }
      } else {
        // Started with other settings (e.g. the data dir moved, so the socket dir changed): restart it.
        log::warn("embedded postgres runs with another socket dir; restarting it",
                  {{"pgdata", pgdata.string()}, {"socket_dir", pf->socket_dir}});
        auto r = run_checked(with_user({pg_ctl, "stop", "-D", pgdata.string(), "-m", "fast", "-w", "-t", "60", "-s"}),
                             "pg_ctl stop");
        if (!r.ok()) return r.error();
      }
    }
  }

  if (!self->adopted_) {
    // PostgreSQL removes lock files of dead servers itself, but not those naming a PID that kill() still finds:
    // a zombie (see process_alive) or, after a reboot, an unrelated process.
    for (const fs::path& lock_file : {pgdata / "postmaster.pid", socket_dir / (socket_name + ".lock")}) {
      auto content = read_file(lock_file);
      const pid_t pid = content ? static_cast<pid_t>(std::atol(content->c_str())) : 0;
      if (pid > 0 && kill(pid, 0) == 0 && !is_live_postmaster(pid, pgdata)) {
        log::warn("removing stale lock file", {{"file", lock_file.string()}, {"pid", pid}});
        fs::remove(lock_file);
      }
    }
    if (auto s = write_file_durably(pgdata / kConfFile, server_settings(socket_dir, options.durable),
                                    root ? &server_user : nullptr);
        !s.ok()) {
      return s.error();
    }
    if (auto conf = read_file(pgdata / "postgresql.conf"); conf && conf->find(kIncludeLine) == std::string::npos) {
      std::ofstream(pgdata / "postgresql.conf", std::ios::app) << "\n" << kIncludeLine << "\n";
    }
    const fs::path log_dir = pgdata / "log";
    if (!fs::exists(log_dir)) {
      if (mkdir(log_dir.c_str(), 0700) != 0 || (root && chown(log_dir.c_str(), server_uid, server_gid) != 0)) {
        return fail("cannot create " + log_dir.string() + ": " + std::strerror(errno));
      }
    }
    const fs::path startup_log = log_dir / "startup.log";
    // Output from before the logging collector takes over (bad settings, a locked data dir) lands here.
    const std::vector<std::string> start_cmd =
        with_user({pg_ctl, "start", "-D", pgdata.string(), "-l", startup_log.string(), "-w", "-t", "60", "-s"});
    for (int attempt = 1;; ++attempt) {
      auto r = run_command(start_cmd);
      if (!r.ok()) return r.error();
      if (r->exit_code == 0) break;
      std::string log_tail = startup_log.string() + ":\n" + tail_of(startup_log, 1500);
      if (fs::path server_log = newest_server_log(log_dir); !server_log.empty()) {
        log_tail += "\n" + server_log.string() + ":\n" + tail_of(server_log, 1500);
      }
      // Backends of a postmaster that was killed outright still hold its shared memory for a moment.
      if (attempt < 5 && log_tail.find("is still in use") != std::string::npos) {
        log::warn("old server processes still hold shared memory; retrying start", {{"attempt", attempt}});
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      return fail("cannot start PostgreSQL in " + pgdata.string() + " (" + describe_argv(start_cmd) + " exited " +
                  std::to_string(r->exit_code) + "): " + r->output + "\n" + log_tail);
    }
    log::info("embedded postgres started", {{"pgdata", pgdata.string()}, {"socket_dir", socket_dir.string()}});
  }
  self->stopped_ = false;  // from here on a failure stops the server again (the destructor)

  // The application database, created on first start.
  auto conn = connect_until(make_url(socket_dir, "postgres"), deadline, 0);
  if (!conn.ok()) return conn.error();
  {
    pqxx::nontransaction tx(**conn);
    if (tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", options.database).empty()) {
      tx.exec0("CREATE DATABASE " + tx.quote_name(options.database));
      log::info("embedded postgres created database", {{"database", options.database}});
    }
  }
  self->url_ = make_url(socket_dir, options.database);
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
    auto pf = read_pid_file(pgdata_);
    if (!pf || !process_alive(pf->pid)) {
      log::warn("embedded postgres was not running at stop", {{"pgdata", pgdata_.string()}});
    } else {
      std::vector<std::string> argv;
      if (!run_as_.empty()) {
        if (auto runuser = find_runuser()) argv = {runuser->string(), "-u", run_as_, "--"};
      }
      const std::vector<std::string> stop_cmd = {
          (bin_dir_ / "pg_ctl").string(), "stop", "-D", pgdata_.string(), "-m", "fast", "-w", "-t", "60", "-s"};
      argv.insert(argv.end(), stop_cmd.begin(), stop_cmd.end());
      auto r = run_command(argv);
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
