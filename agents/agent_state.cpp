#include "agents/agent_state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace fleet::agent {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxStateBytes = 64 * 1024 * 1024;  // fleet-sim with 10,000+ agents stays far below

}  // namespace

Status write_private_file(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::kInternal, "cannot write " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);  // an existing file keeps its old mode through O_CREAT
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return make_error(ErrorCode::kInternal, "cannot write " + tmp + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  // The rename must not make an empty file visible after a crash: data first, then the name.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return make_error(ErrorCode::kInternal, "cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return make_error(ErrorCode::kInternal, "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
  return Ok{};
}

Result<std::optional<AgentState>> load_agent_state(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<AgentState>{};
    return make_error(ErrorCode::kInternal, "cannot read the state file " + path + ": " + std::strerror(errno));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.size() > kMaxStateBytes) return make_error(ErrorCode::kInvalid, "the state file " + path + " is too large");
  json j = json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalid, "the state file " + path + " is not valid (" + why +
                                               "); remove it to register again with a new bootstrap token");
  };
  if (!j.is_object()) return bad("not a JSON object");
  AgentState state;
  if (!j.contains("server") || !j["server"].is_string()) return bad("no server");
  state.server = j["server"].get<std::string>();
  if (!j.contains("agents") || !j["agents"].is_object()) return bad("no agents");
  for (const auto& [cluster, credential] : j["agents"].items()) {
    if (!credential.is_string() || credential.get<std::string>().empty()) return bad("a credential is not a string");
    state.credentials[cluster] = credential.get<std::string>();
  }
  return std::optional<AgentState>{std::move(state)};
}

Status save_agent_state(const std::string& path, const AgentState& state) {
  json agents = json::object();
  for (const auto& [cluster, credential] : state.credentials) agents[cluster] = credential;
  json j = {{"server", state.server}, {"agents", std::move(agents)}};
  return write_private_file(path, j.dump(2) + "\n");
}

}  // namespace fleet::agent
