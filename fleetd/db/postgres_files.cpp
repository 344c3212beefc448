#include "fleetd/db/postgres_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "fleetd/db/child_process.hpp"

namespace fleet::pg {

namespace fs = std::filesystem;

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
  if (fd < 0) return pg_failure("cannot write " + tmp.string() + ": " + std::strerror(errno));
  bool ok = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = ok && (owner == nullptr || fchown(fd, owner->pw_uid, owner->pw_gid) == 0);
  ok = ok && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), p.c_str()) != 0) {
    err = ok ? errno : err;
    unlink(tmp.c_str());
    return pg_failure("cannot write " + p.string() + ": " + std::strerror(err));
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
      return pg_failure("cannot chown " + p.string() + " to " + owner.pw_name + ": " + std::strerror(errno));
    }
    return Ok{};
  };
  if (auto s = one(root); !s.ok()) return s;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (auto s = one(it->path()); !s.ok()) return s;
  }
  if (ec) return pg_failure("cannot walk " + root.string() + ": " + ec.message());
  return Ok{};
}

Status ensure_private_dir(const fs::path& dir, uid_t uid, gid_t gid) {
  if (mkdir(dir.c_str(), 0700) == 0) {
    if (geteuid() == 0 && chown(dir.c_str(), uid, gid) != 0) {
      return pg_failure("cannot chown " + dir.string() + ": " + std::strerror(errno));
    }
  } else if (errno != EEXIST) {
    return pg_failure("cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) return pg_failure("cannot stat " + dir.string() + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0) {
    return pg_failure(dir.string() + " exists but is not a private (0700) directory owned by uid " +
                      std::to_string(uid) + "; remove it and start again");
  }
  return Ok{};
}

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

bool is_live_postmaster(pid_t pid, const fs::path& pgdata) {
  if (!process_alive(pid)) return false;
  std::error_code ec;
  fs::path cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  if (ec) return true;  // cannot tell; let the connection check decide
  return cwd == pgdata;
}

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

}  // namespace fleet::pg
