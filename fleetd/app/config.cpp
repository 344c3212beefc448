#include "fleetd/app/config.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fleet {
namespace {

constexpr std::size_t kMaxConfigFileBytes = 1024 * 1024;

template <class T>
Status parse_number(const std::string& text, T& out, T min, T max, const std::string& what) {
  T value{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || value < min || value > max) {
    return make_error(ErrorCode::kInvalid, what + ": expected a whole number from " + std::to_string(min) + " to " +
                                               std::to_string(max) + ", got \"" + text + "\"");
  }
  out = value;
  return Ok{};
}

using Setter = std::function<Status(const std::string& value, const std::string& what)>;

std::map<std::string, Setter> setters(ServeConfig& c) {
  auto str = [](std::string& field) {
    return [&field](const std::string& v, const std::string&) -> Status {
      field = v;
      return Ok{};
    };
  };
  auto uns = [](unsigned& field, unsigned min, unsigned max) {
    return [&field, min, max](const std::string& v, const std::string& what) {
      return parse_number(v, field, min, max, what);
    };
  };
  auto size = [](std::size_t& field, std::size_t min, std::size_t max) {
    return [&field, min, max](const std::string& v, const std::string& what) {
      return parse_number(v, field, min, max, what);
    };
  };
  return {
      {"listen", str(c.listen)},
      {"data-dir", str(c.data_dir)},
      {"database-url", str(c.database_url)},
      {"http-threads", uns(c.http_threads, 1, 64)},
      {"db-connections", uns(c.db_connections, 0, 200)},
      {"max-body-bytes", size(c.max_body_bytes, 1024, 64 * 1024 * 1024)},
      {"max-header-bytes", size(c.max_header_bytes, 1024, 1024 * 1024)},
      {"max-connections", uns(c.max_connections, 1, 1'000'000)},
      {"max-connections-per-source", uns(c.max_connections_per_source, 0, 1'000'000)},
      {"auth-failure-burst", uns(c.auth_failure_burst, 0, 1'000'000)},
      {"auth-failures-per-minute", uns(c.auth_failures_per_minute, 1, 1'000'000)},
      {"log-level", str(c.log_level)},
      {"log-format", str(c.log_format)},
      {"port-file", str(c.port_file)},
      {"shutdown-grace-seconds", uns(c.shutdown_grace_seconds, 0, 3600)},
      {"heartbeat-interval", uns(c.heartbeat_interval_seconds, 1, 3600)},
      {"unreachable-after", uns(c.unreachable_after_seconds, 0, 86400)},
      {"command-lease-seconds", uns(c.command_lease_seconds, 1, 86400)},
      {"record-sweep-seconds", uns(c.record_sweep_seconds, 1, 86400)},
      {"auto-upgrade-seconds", uns(c.auto_upgrade_seconds, 1, 3600)},
      {"command-max-attempts", uns(c.command_max_attempts, 1, 1000)},
      {"tls", str(c.tls)},
      {"tls-cert", str(c.tls_cert)},
      {"tls-key", str(c.tls_key)},
      {"tls-ca", str(c.tls_ca)},
      // One string from env or file ("a.example.com,10.0.0.5"); tls_setup splits the commas.
      {"tls-san",
       [&c](const std::string& v, const std::string&) -> Status {
         c.tls_sans = {v};
         return Ok{};
       }},
  };
}

std::string env_name(const std::string& flag) {
  std::string out = "FLEETD_";
  for (char ch : flag) out.push_back(ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  return out;
}

}  // namespace

Status resolve_config(ServeConfig& config, const std::vector<std::string>& given) {
  auto table = setters(config);
  nlohmann::json file = nlohmann::json::object();
  std::string config_path = config.config_file;
  if (config_path.empty()) {
    if (const char* e = std::getenv("FLEETD_CONFIG")) config_path = e;
  }
  if (!config_path.empty()) {
    std::ifstream in(config_path, std::ios::binary);
    if (!in) return make_error(ErrorCode::kInvalid, "cannot read config file " + config_path);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (ss.str().size() > kMaxConfigFileBytes) return make_error(ErrorCode::kInvalid, "config file is over 1 MiB");
    file = nlohmann::json::parse(ss.str(), nullptr, false);
    if (file.is_discarded() || !file.is_object()) {
      return make_error(ErrorCode::kInvalid, "config file " + config_path + " is not a JSON object");
    }
    for (auto& [key, value] : file.items()) {
      if (!table.count(key)) {
        return make_error(ErrorCode::kInvalid, "config file " + config_path + ": unknown setting \"" + key + "\"");
      }
      if (!value.is_string() && !value.is_number_unsigned()) {
        return make_error(ErrorCode::kInvalid,
                          "config file " + config_path + ": \"" + key + "\" must be a string or a number");
      }
    }
  }
  for (auto& [flag, set] : table) {
    if (std::find(given.begin(), given.end(), flag) != given.end()) continue;
    std::string env = env_name(flag);
    if (const char* v = std::getenv(env.c_str())) {
      if (auto st = set(v, env); !st) return st;
      continue;
    }
    if (file.contains(flag)) {
      const auto& v = file[flag];
      std::string text = v.is_string() ? v.get<std::string>() : std::to_string(v.get<std::uint64_t>());
      if (auto st = set(text, "config file setting \"" + flag + "\""); !st) return st;
    }
  }
  return Ok{};
}

}  // namespace fleet
