#pragma once
// -o table|wide|json|yaml|name|jsonpath=TEMPLATE, and the JSON/YAML renderings shared by every command.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace fleet::ctl {

enum class OutputFormat { kTable, kWide, kJson, kYaml, kName, kJsonPath };

// "" → table; "jsonpath=…" → kJsonPath (the template is jsonpath_template_of). Unknown names → nullopt (CLI11
// rejects them before this is reached).
std::optional<OutputFormat> parse_output_format(const std::string& name);
// What follows "jsonpath=" ("" for any other format).
std::string jsonpath_template_of(const std::string& output);
inline const std::vector<std::string>& output_format_names() {
  static const std::vector<std::string> kNames = {"table", "wide", "json", "yaml"};
  return kNames;
}
// The -o values of `get` list commands: the above, "name" and "jsonpath=TEMPLATE".
inline const std::vector<std::string>& list_output_format_names() {
  static const std::vector<std::string> kNames = {"table", "wide", "json", "yaml", "name", "jsonpath=TEMPLATE"};
  return kNames;
}
// "" when `output` is a valid -o of a list command, else the reason (a bad template says where).
std::string list_output_problem(const std::string& output);

inline bool is_document_format(OutputFormat format) {
  return format == OutputFormat::kJson || format == OutputFormat::kYaml;
}

// Two-space indented JSON or YAML, ending with a newline. A list is {"items": [...]}, as kubectl's List.
std::string render_document(const nlohmann::json& document, OutputFormat format);
nlohmann::json as_list(const std::vector<nlohmann::json>& items);

}  // namespace fleet::ctl
