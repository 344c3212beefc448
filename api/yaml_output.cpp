#include "api/yaml_output.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <regex>

#include <yaml-cpp/yaml.h>

namespace fleet::api {
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

void append_hex_escape(std::string& out, char kind, std::uint32_t cp, int digits) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '\\';
  out += kind;
  for (int i = digits - 1; i >= 0; --i) out += kHex[(cp >> (4 * i)) & 0xF];
}

// Decodes one UTF-8 sequence at s[i]; advances i. Invalid input yields U+FFFD for one byte.
std::uint32_t next_code_point(std::string_view s, std::size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  std::uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += len;
  return cp;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// YAML 1.2 §5.1 printable set; everything else must be escaped inside double quotes.
bool is_printable(std::uint32_t cp) {
  return (cp >= 0x20 && cp <= 0x7E) || cp == 0x85 || (cp >= 0xA0 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD && cp != 0xFEFF) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

std::string scalar_string(std::string_view s) {
  if (can_be_plain(s)) return std::string(s);
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = next_code_point(s, i);
    switch (cp) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\r':
        out += "\\r";
        continue;
      default:
        break;
    }
    if (is_printable(cp)) {
      append_utf8(out, cp);
    } else if (cp <= 0xFF) {
      append_hex_escape(out, 'x', cp, 2);
    } else if (cp <= 0xFFFF) {
      append_hex_escape(out, 'u', cp, 4);
    } else {
      append_hex_escape(out, 'U', cp, 8);
    }
  }
  out += '"';
  return out;
}

std::string scalar(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return v.dump();
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) return ".nan";
      if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
      std::string text = v.dump();
      // "1.0e+20" is a float to YAML 1.2 readers, but YAML 1.1 wants a dot; nlohmann writes one except for
      // exponents without it ("1e+20"), which we repair.
      if (text.find('.') == std::string::npos && text.find_first_of("eE") != std::string::npos) {
        text.insert(text.find_first_of("eE"), ".0");
      }
      return text;
    }
    case json::value_t::string:
      return scalar_string(v.get_ref<const std::string&>());
    default:
      return "null";
  }
}

bool is_empty_container(const json& v) {
  return (v.is_object() || v.is_array()) && v.empty();
}
bool is_collection(const json& v) {
  return (v.is_object() || v.is_array()) && !v.empty();
}

void emit(const json& v, int indent, std::string& out);

// Writes a value after "key:" or "- ": scalars and empty containers inline, collections on the next lines.
void emit_after_marker(const json& v, int indent, std::string& out, bool in_sequence) {
  if (!is_collection(v)) {
    out += ' ';
    out += is_empty_container(v) ? (v.is_object() ? "{}" : "[]") : scalar(v);
    out += '\n';
    return;
  }
  if (in_sequence && v.is_object()) {
    // "- key: v" with the remaining keys aligned under the first.
    out += ' ';
    std::string nested;
    emit(v, indent + 2, nested);
    out += nested.substr(static_cast<std::size_t>(indent) + 2);
    return;
  }
  out += '\n';
  // Sequences under a key are indented too; block sequences at the key's own column are legal but less readable.
  emit(v, indent + 2, out);
}

void emit(const json& v, int indent, std::string& out) {
  std::string pad(static_cast<std::size_t>(indent), ' ');
  if (v.is_object() && !v.empty()) {
    for (const auto& [key, value] : v.items()) {
      out += pad;
      out += scalar_string(key);
      out += ':';
      emit_after_marker(value, indent, out, false);
    }
  } else if (v.is_array() && !v.empty()) {
    for (const json& item : v) {
      out += pad;
      out += '-';
      emit_after_marker(item, indent, out, true);
    }
  } else {
    out += pad;
    out += is_empty_container(v) ? (v.is_object() ? "{}" : "[]") : scalar(v);
    out += '\n';
  }
}

// YAML 1.2 core schema resolution of an untagged plain scalar.
json resolve_plain(const std::string& s) {
  static const std::regex kNull("null|Null|NULL|~|");
  static const std::regex kBool("true|True|TRUE|false|False|FALSE");
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kHex("0x[0-9a-fA-F]+");
  static const std::regex kOct("0o[0-7]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  static const std::regex kInf("[-+]?\\.(inf|Inf|INF)");
  static const std::regex kNan("\\.(nan|NaN|NAN)");
  if (std::regex_match(s, kNull)) return nullptr;
  if (std::regex_match(s, kBool)) return s[0] == 't' || s[0] == 'T';
  try {
    if (std::regex_match(s, kInt)) {
      if (s[0] == '-') return std::stoll(s);
      return std::stoull(s[0] == '+' ? s.substr(1) : s);
    }
    if (std::regex_match(s, kHex)) return std::stoull(s.substr(2), nullptr, 16);
    if (std::regex_match(s, kOct)) return std::stoull(s.substr(2), nullptr, 8);
  } catch (const std::out_of_range&) {
    return std::stod(s);  // beyond 64 bits: keep the magnitude, as JSON readers do
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  if (std::regex_match(s, kInf)) {
    return s[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (std::regex_match(s, kNan)) return std::numeric_limits<double>::quiet_NaN();
  return s;
}

json to_json_node(const YAML::Node& node, int depth) {
  // yaml-cpp itself recurses while parsing; this bound keeps the conversion from being the deeper of the two.
  if (depth > 256) throw YAML::Exception(node.Mark(), "YAML nesting is too deep");
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags untagged plain scalars "?" and quoted ones "!" (non-specific).
      if (node.Tag() == "?") return resolve_plain(node.Scalar());
      if (node.Tag() == "tag:yaml.org,2002:int" || node.Tag() == "!!int") return resolve_plain(node.Scalar());
      return node.Scalar();
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const YAML::Node& item : node) out.push_back(to_json_node(item, depth + 1));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        std::string key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
        out[key] = to_json_node(kv.second, depth + 1);
      }
      return out;
    }
  }
  return nullptr;
}

}  // namespace

std::string to_yaml(const json& value) {
  std::string out;
  emit(value, 0, out);
  return out;
}

Result<json> parse_yaml(std::string_view text) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return to_json_node(root, 0);
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::kInvalid,
                      "YAML is not valid at line " + std::to_string(e.mark.line + 1) + ": " + e.msg, {},
                      "malformed-request");
  }
}

}  // namespace fleet::api
