#include "fleetd/db/postgres_settings.hpp"

#include <algorithm>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <utility>
#include <vector>

#include "fleetd/db/child_process.hpp"

namespace fleet::pg {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxSocketPath = 107;  // sizeof(sockaddr_un::sun_path) - 1 for the NUL

bool has_server_binaries(const fs::path& dir) {
  return is_executable(dir / "initdb") && is_executable(dir / "pg_ctl") && is_executable(dir / "postgres");
}

std::string conf_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
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

std::string encoded(const std::string& s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

}  // namespace

Result<fs::path> find_binaries(const fs::path& explicit_dir, int wanted_major) {
  if (!explicit_dir.empty()) {
    if (has_server_binaries(explicit_dir)) return explicit_dir;
    return pg_failure("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in " + explicit_dir.string() +
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
  return pg_failure(
      "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in /usr/lib/postgresql/*/bin or PATH; "
      "run scripts/setup (or apt-get install postgresql-15), or pass --database-url to use an external server");
}

Result<int> binaries_major(const fs::path& bin_dir) {
  auto r = run_checked({(bin_dir / "postgres").string(), "--version"}, "postgres --version");
  if (!r.ok()) return r.error();
  auto pos = r->output.find(") ");
  if (pos == std::string::npos) return pg_failure("cannot parse `postgres --version` output: " + r->output);
  return std::atoi(r->output.c_str() + pos + 2);
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
  // CAP_DAC_OVERRIDE. Nobody else can reach the socket, and pg_hba.conf (hba_rules) checks who connects anyway.
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

fs::path socket_dir_for(const fs::path& data_dir, const fs::path& pgdata) {
  const std::string socket_name = ".s.PGSQL." + std::to_string(kPort);
  if ((pgdata / socket_name).string().size() <= kMaxSocketPath) return pgdata;
  return fs::path("/tmp") / ("fleetd-pg-" + fnv1a_hex(data_dir.string()));
}

std::string hba_rules(bool peer) {
  return std::string(
             "# Written by fleetd at every start; local changes are overwritten.\n"
             "# TYPE  DATABASE  USER  METHOD\n") +
         (peer ? "local   all       all   peer map=fleetd\n" : "local   all       all   trust\n");
}

std::string ident_map(const std::vector<std::string>& os_users) {
  std::string m = "# Written by fleetd at every start: the operating-system users that may connect, as " +
                  std::string(kSuperuser) + ".\n";
  std::vector<std::string> seen;
  for (const std::string& user : os_users) {
    if (user.empty() || std::find(seen.begin(), seen.end(), user) != seen.end()) continue;
    seen.push_back(user);
    std::string quoted = "\"";  // pg_ident.conf quoting: a double quote inside is doubled
    for (char c : user) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    m += "fleetd  " + quoted + "\"  " + kSuperuser + "\n";
  }
  return m;
}

std::string connection_url(const fs::path& socket_dir, const std::string& database) {
  return "postgresql:///" + encoded(database) + "?host=" + encoded(socket_dir.string()) +
         "&port=" + std::to_string(kPort) + "&user=" + kSuperuser;
}

}  // namespace fleet::pg
