#pragma once
// YAML for people: fleetctl -o yaml. yaml-cpp's emitter writes the block layout (kubectl's: two-space indents,
// sequences under a key indented); this file decides only which strings must be quoted.
#include <string>

#include <nlohmann/json.hpp>

namespace fleet::ctl {

// Block-style YAML ending in a newline. A string is written plain only when no YAML 1.1 or 1.2 reader could take
// it for anything else (a number, bool, null, timestamp, …); otherwise double-quoted. So to_yaml output read
// back by api::parse_yaml (or PyYAML, yaml-cpp, Go's yaml.v3) yields the same JSON; invalid UTF-8 becomes U+FFFD.
std::string to_yaml(const nlohmann::json& value);

}  // namespace fleet::ctl
