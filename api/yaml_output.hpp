#pragma once
// YAML for people (fleetctl -o yaml) and the YAML → JSON step of the embedded OpenAPI file.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::api {

// Block-style YAML ending in a newline. A string is written plain only when no YAML 1.1 or 1.2 reader could take
// it for anything else (a number, bool, null, timestamp, …); otherwise double-quoted. So to_yaml output read
// back by parse_yaml (or PyYAML, yaml-cpp, Go's yaml.v3) yields the same JSON.
std::string to_yaml(const nlohmann::json& value);

// YAML (1.2 core schema for untagged plain scalars: null, true/false, integers, floats; quoted scalars are
// strings) to JSON. Anchors and aliases are resolved; non-string map keys become their text. kInvalid on a
// syntax error, with the line.
Result<nlohmann::json> parse_yaml(std::string_view text);

}  // namespace fleet::api
