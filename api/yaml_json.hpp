#pragma once
// YAML documents read as JSON: the embedded OpenAPI file, and manifests users give in YAML.
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::api {

// YAML (1.2 core schema for untagged plain scalars: null, true/false, integers, floats; quoted scalars are
// strings) to JSON. Anchors and aliases are resolved; non-string map keys become their text. kInvalid on a
// syntax error, with the line.
Result<nlohmann::json> parse_yaml(std::string_view text);
// Every document of a stream (documents separated by "---"), in order, as parse_yaml reads one; an empty document
// is null. kInvalid on a syntax error anywhere, with the line counted from the start of the stream.
Result<std::vector<nlohmann::json>> parse_yaml_documents(std::string_view text);

}  // namespace fleet::api
