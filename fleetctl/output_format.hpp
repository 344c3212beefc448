#pragma once
// -o table|wide|json|yaml, and the JSON/YAML renderings shared by every command.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace fleet::ctl {

enum class OutputFormat { kTable, kWide, kJson, kYaml };

// "" → table. Unknown names → nullopt (CLI11 rejects them before this is reached).
std::optional<OutputFormat> parse_output_format(const std::string& name);
inline const std::vector<std::string>& output_format_names() {
  static const std::vector<std::string> kNames = {"table", "wide", "json", "yaml"};
  return kNames;
}

// Two-space indented JSON or YAML, ending with a newline. A list is {"items": [...]}, as kubectl's List.
std::string render_document(const nlohmann::json& document, OutputFormat format);
nlohmann::json as_list(const std::vector<nlohmann::json>& items);

}  // namespace fleet::ctl
