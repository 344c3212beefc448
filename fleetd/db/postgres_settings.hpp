#pragma once
// What the embedded PostgreSQL runs with: which binaries, the settings fleetd writes at every start, where its
// socket lives and the URL fleetd connects with.
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace fleet::pg {

inline constexpr const char* kSuperuser = "fleet";  // initdb -U: the bootstrap superuser fleetd connects as
inline constexpr int kPort = 5432;                  // only names the socket file; there is no TCP listener
inline constexpr const char* kConfFile = "fleetd.conf";
inline constexpr const char* kIncludeLine = "include 'fleetd.conf'  # added by fleetd; settings live there";

// The server binaries (initdb, pg_ctl, postgres): `explicit_dir`, else /usr/lib/postgresql/<major>/bin preferring
// `wanted_major` (the data directory's PG_VERSION, so a machine with several majors keeps running the one that
// created the cluster) and otherwise the newest, else PATH.
Result<std::filesystem::path> find_binaries(const std::filesystem::path& explicit_dir, int wanted_major);
// "postgres (PostgreSQL) 15.14 (Debian …)" → 15.
Result<int> binaries_major(const std::filesystem::path& bin_dir);

// Client authentication, rewritten at every start (issue #10: the cluster was initialised with `trust`): Unix-socket
// connections only, `peer` through the ident map `fleetd`, which lets exactly `os_users` (fleetd's own user, the
// server's user, root) in as kSuperuser. Another local account that reaches the socket, or a login as any other
// database role, is refused. Where fleetd's user has no name (a container run under an arbitrary uid) peer cannot
// work, and the rules stay `trust`: then the socket's mode 0700 is the only guard.
std::string hba_rules(bool peer);
std::string ident_map(const std::vector<std::string>& os_users);
inline constexpr const char* kHbaFile = "pg_hba.conf";
inline constexpr const char* kIdentFile = "pg_ident.conf";

// fleetd.conf: sized for a small dedicated box that also runs fleetd; `durable` false only for test servers.
std::string server_settings(const std::filesystem::path& socket_dir, bool durable);
// The data directory's own directory for the socket when the socket path fits in sun_path, else a short private
// one in /tmp named by a stable hash of the data directory.
std::filesystem::path socket_dir_for(const std::filesystem::path& data_dir, const std::filesystem::path& pgdata);
// "postgresql:///<database>?host=<socket dir>&port=5432&user=fleet", percent-encoded.
std::string connection_url(const std::filesystem::path& socket_dir, const std::string& database);

}  // namespace fleet::pg
