#include "api/yaml_json.hpp"

#include <limits>
#include <regex>

#include <yaml-cpp/yaml.h>

namespace fleet::api {
namespace {

using nlohmann::json;

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

Error yaml_error(const YAML::Exception& e) {
  return make_error(ErrorCode::kInvalid, "YAML is not valid at line " + std::to_string(e.mark.line + 1) + ": " + e.msg,
                    {}, "malformed-request");
}

}  // namespace

Result<json> parse_yaml(std::string_view text) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return to_json_node(root, 0);
  } catch (const YAML::Exception& e) {
    return yaml_error(e);
  }
}

Result<std::vector<json>> parse_yaml_documents(std::string_view text) {
  try {
    std::vector<json> out;
    for (const YAML::Node& root : YAML::LoadAll(std::string(text))) out.push_back(to_json_node(root, 0));
    return out;
  } catch (const YAML::Exception& e) {
    return yaml_error(e);
  }
}

}  // namespace fleet::api
