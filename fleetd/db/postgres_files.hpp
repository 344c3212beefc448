#pragma once
// Files of the embedded PostgreSQL's data directory: durable writes, ownership for the server user, the private
// socket directory, postmaster.pid and the server logs.
#include <pwd.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "common/error.hpp"

namespace fleet::pg {

std::optional<std::string> read_file(const std::filesystem::path& p);
// Through a temporary file, fsync and rename, mode 0600, owned by `owner` when given.
Status write_file_durably(const std::filesystem::path& p, const std::string& content, const passwd* owner);
void fsync_dir(const std::filesystem::path& dir);
Status chown_tree(const std::filesystem::path& root, const passwd& owner);
// Creates `dir` (mode 0700) for the server user, or checks that an existing one belongs to it and is private: a
// socket directory under /tmp could otherwise be planted by another local user.
Status ensure_private_dir(const std::filesystem::path& dir, uid_t uid, gid_t gid);
// pg_ctl hands -D and -l to /bin/sh inside double quotes, so ", \, $, ` and control characters cannot be passed.
Status check_path_chars(const std::filesystem::path& p);

struct PidFile {
  pid_t pid = 0;
  std::string data_dir;
  int port = 0;
  std::string socket_dir;
  std::string status;  // "starting", "ready", "stopping", "standby"
};
// postmaster.pid: PID, data dir, start time, port, first socket dir, listen address, shmem key, status.
std::optional<PidFile> read_pid_file(const std::filesystem::path& pgdata);
// Alive and (when /proc says so) running in this data directory: after a reboot the PID may belong to another
// process, and then the file is simply stale.
bool is_live_postmaster(pid_t pid, const std::filesystem::path& pgdata);

// The newest server log: once the logging collector runs, startup failures are reported there.
std::filesystem::path newest_server_log(const std::filesystem::path& log_dir);
// The last `max_bytes` of a file, without trailing newlines; "" when unreadable.
std::string tail_of(const std::filesystem::path& p, std::size_t max_bytes);

}  // namespace fleet::pg
