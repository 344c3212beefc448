#include "common/log_line.hpp"

#include <array>
#include <cstdio>
#include <ctime>

#include "common/time_format.hpp"

namespace fleet::log {
namespace {

constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || ch == '"' || ch == '=' || ch == '\\') return true;
  }
  return false;
}

void append_value(std::string& out, const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    // Dumped even when bare-safe would do: dump() is what replaces invalid UTF-8.
    std::string quoted = value.dump(-1, ' ', false, kReplace);
    if (needs_quotes(s)) {
      out += quoted;
    } else {
      out.append(quoted, 1, quoted.size() - 2);
    }
    return;
  }
  out += value.dump(-1, ' ', false, kReplace);
}

std::string time_of_day_utc(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf.data();
}

}  // namespace

const char* level_name(Level level) {
  switch (level) {
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

std::optional<Level> parse_level(std::string_view name) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == level_name(l)) return l;
  }
  return std::nullopt;
}

std::string format_json_line(const LineParts& line) {
  // Ordered, so that every line starts with the time and the level, whatever the fields are called.
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["ts"] = format_rfc3339(line.at);
  out["level"] = level_name(line.level);
  out["component"] = line.component;
  out["msg"] = line.msg;
  if (line.fields != nullptr && line.fields->is_object()) {
    for (auto it = line.fields->begin(); it != line.fields->end(); ++it) {
      out[it.key()] = nlohmann::ordered_json(it.value());
    }
  }
  // replace: a stray invalid UTF-8 byte in a value must not throw out of a log call.
  std::string text = out.dump(-1, ' ', false, kReplace);
  text.push_back('\n');
  return text;
}

std::string format_console_line(const LineParts& line) {
  // Fixed-width level and component, so that messages start in one column and the eye can run down them.
  std::array<char, 8> level{};
  std::snprintf(level.data(), level.size(), "%-5s", level_name(line.level));
  for (char* c = level.data(); *c != '\0'; ++c) *c = static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
  std::string text = time_of_day_utc(line.at);
  text += ' ';
  text += level.data();
  text += ' ';
  text += line.component;
  text += "  ";
  // The message through dump() too, for the same UTF-8 reason and so that a newline in it cannot start a line
  // that looks like another entry; it is not quoted, and its quotes are left as they were.
  const std::string msg = nlohmann::json(line.msg).dump(-1, ' ', false, kReplace);
  for (std::size_t i = 1; i + 1 < msg.size(); ++i) {
    if (msg[i] == '\\' && msg[i + 1] == '"' && i + 2 < msg.size()) continue;
    text.push_back(msg[i]);
  }
  if (line.fields != nullptr && line.fields->is_object()) {
    for (auto it = line.fields->begin(); it != line.fields->end(); ++it) {
      text += ' ';
      text += it.key();
      text += '=';
      append_value(text, it.value());
    }
  }
  text.push_back('\n');
  return text;
}

}  // namespace fleet::log
