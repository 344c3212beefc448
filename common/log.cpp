#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace fleet::log {
namespace {
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::atomic<Format> g_format{Format::kJson};
std::mutex g_mutex;
std::string g_component = "fleet";
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

void set_format(Format format) {
  g_format = format;
}

bool set_format(std::string_view name) {
  if (name == "json") {
    set_format(Format::kJson);
  } else if (name == "console") {
    set_format(Format::kConsole);
  } else if (name == "auto") {
    set_format(::isatty(STDERR_FILENO) == 1 ? Format::kConsole : Format::kJson);
  } else {
    return false;
  }
  return true;
}

void write(Level level, std::string_view msg, const nlohmann::json& fields) {
  if (!enabled(level)) return;
  const auto now = std::chrono::system_clock::now();
  std::lock_guard lock(g_mutex);
  const LineParts parts{now, level, g_component, msg, &fields};
  const std::string text = g_format.load() == Format::kConsole ? format_console_line(parts) : format_json_line(parts);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void set_min_level(std::string_view name) {
  if (auto level = parse_level(name)) set_min_level(*level);
}

}  // namespace fleet::log
