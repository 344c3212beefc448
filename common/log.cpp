#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include "common/time_format.hpp"

namespace fleet::log {
namespace {
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::mutex g_mutex;
std::string g_component = "fleet";

const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}
}  // namespace

bool enabled(Level level) {
  return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed);
}

void set_min_level(Level level) {
  g_min_level = static_cast<int>(level);
}
void set_component(std::string component) {
  std::lock_guard lock(g_mutex);
  g_component = std::move(component);
}

void write(Level level, std::string_view msg, const nlohmann::json& fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = format_rfc3339(std::chrono::system_clock::now());
  line["level"] = level_name(level);
  {
    std::lock_guard lock(g_mutex);
    line["component"] = g_component;
  }
  line["msg"] = msg;
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
  }
  // replace: a stray invalid UTF-8 byte in a value must not throw out of a log call.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  std::lock_guard lock(g_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void set_min_level(std::string_view name) {
  if (name == "debug") set_min_level(Level::kDebug);
  if (name == "info") set_min_level(Level::kInfo);
  if (name == "warn") set_min_level(Level::kWarn);
  if (name == "error") set_min_level(Level::kError);
}

}  // namespace fleet::log
