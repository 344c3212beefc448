#include "fleetctl/yaml_output.hpp"

#include <cmath>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace fleet::ctl {
namespace {

using nlohmann::json;

bool is_plain_safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '/' || c == ' ';
}

// Words some YAML reader resolves to a non-string: YAML 1.1 booleans (y/n/yes/on/…) and nulls in all their
// spellings. Compared case-insensitively, which also covers the odd mixed-case forms some readers accept.
bool is_reserved_word(std::string_view s) {
  static constexpr std::string_view kWords[] = {"y",    "n",     "yes",  "no", "on",  "off",
                                                "true", "false", "null", "~",  "nan", "inf"};
  if (s.size() > 5) return false;
  std::string low(s);
  for (char& c : low) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  for (std::string_view w : kWords) {
    if (low == w) return true;
  }
  return false;
}

// Conservative on purpose: quoting a string that did not need it costs two characters; not quoting one that did
// changes its type for the reader. Anything starting with a digit, sign or dot might be a number or timestamp.
bool can_be_plain(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  char f = s.front();
  bool letter_start = (f >= 'a' && f <= 'z') || (f >= 'A' && f <= 'Z') || f == '_' || f == '/';
  if (!letter_start) return false;
  for (char c : s) {
    if (!is_plain_safe_char(c)) return false;
  }
  return !is_reserved_word(s);
}

// Invalid UTF-8 becomes U+FFFD, as in fleetctl's JSON output: nlohmann's replacing dump, read back.
std::string valid_utf8(const std::string& s) {
  return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

void emit_string(YAML::Emitter& out, const std::string& raw) {
  const std::string s = valid_utf8(raw);
  if (can_be_plain(s)) {
    out << s;
  } else {
    out << YAML::DoubleQuoted << s;
  }
}

// Floats as YAML 1.1 and 1.2 readers both read them back: ".nan", ".inf", and a dot before any exponent.
std::string float_text(const json& v) {
  const double d = v.get<double>();
  if (std::isnan(d)) return ".nan";
  if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
  std::string text = v.dump();
  if (text.find('.') == std::string::npos && text.find_first_of("eE") != std::string::npos) {
    text.insert(text.find_first_of("eE"), ".0");  // nlohmann writes "1e+20"; YAML 1.1 wants "1.0e+20"
  }
  return text;
}

void emit(YAML::Emitter& out, const json& v) {
  switch (v.type()) {
    case json::value_t::boolean:
      out << v.get<bool>();
      break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      out << v.dump();
      break;
    case json::value_t::number_float:
      out << float_text(v);
      break;
    case json::value_t::string:
      emit_string(out, v.get_ref<const std::string&>());
      break;
    case json::value_t::array:
      out << (v.empty() ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
      for (const json& item : v) emit(out, item);
      out << YAML::EndSeq;
      break;
    case json::value_t::object:
      out << (v.empty() ? YAML::Flow : YAML::Block) << YAML::BeginMap;
      for (const auto& [key, value] : v.items()) {
        out << YAML::Key;
        emit_string(out, key);
        out << YAML::Value;
        emit(out, value);
      }
      out << YAML::EndMap;
      break;
    default:
      out << YAML::Null;
      break;
  }
}

}  // namespace

std::string to_yaml(const json& value) {
  YAML::Emitter out;
  out.SetNullFormat(YAML::LowerNull);
  out.SetBoolFormat(YAML::TrueFalseBool);
  out.SetIndent(2);
  emit(out, value);
  std::string text;
  // yaml-cpp escapes control characters inside double quotes but writes DEL (0x7F) as it is, which YAML does not
  // allow in a document. A raw DEL can only stand in a string we quoted (can_be_plain refuses it): escape it there.
  for (char c : std::string_view(out.c_str(), out.size())) {
    if (c == '\x7f') {
      text += "\\x7F";
    } else {
      text += c;
    }
  }
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace fleet::ctl
