#include "fleetctl/output_format.hpp"

#include "fleetctl/jsonpath.hpp"
#include "fleetctl/yaml_output.hpp"

namespace fleet::ctl {
namespace {

constexpr std::string_view kJsonPathPrefix = "jsonpath=";

}  // namespace

std::optional<OutputFormat> parse_output_format(const std::string& name) {
  if (name.empty() || name == "table") return OutputFormat::kTable;
  if (name == "wide") return OutputFormat::kWide;
  if (name == "json") return OutputFormat::kJson;
  if (name == "yaml") return OutputFormat::kYaml;
  if (name == "name") return OutputFormat::kName;
  if (name.starts_with(kJsonPathPrefix)) return OutputFormat::kJsonPath;
  return std::nullopt;
}

std::string jsonpath_template_of(const std::string& output) {
  return output.starts_with(kJsonPathPrefix) ? output.substr(kJsonPathPrefix.size()) : std::string();
}

std::string list_output_problem(const std::string& output) {
  if (output == "jsonpath") return "-o jsonpath needs a template: -o jsonpath='{.items[*].name}'";
  if (!parse_output_format(output)) {
    return "unknown output format \"" + output + "\": use table, wide, json, yaml, name or jsonpath=TEMPLATE";
  }
  if (output.starts_with(kJsonPathPrefix)) {
    auto parsed = JsonPathTemplate::parse(jsonpath_template_of(output));
    if (!parsed) return parsed.error().message;
  }
  return {};
}

std::string render_document(const nlohmann::json& document, OutputFormat format) {
  if (format == OutputFormat::kYaml) {
    return to_yaml(document);
  }
  // Replace invalid UTF-8 from the server instead of throwing mid-output.
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::json as_list(const std::vector<nlohmann::json>& items) {
  return nlohmann::json{{"items", nlohmann::json(items)}};
}

}  // namespace fleet::ctl
