#include "fleetctl/output_format.hpp"

#include "fleetctl/yaml_output.hpp"

namespace fleet::ctl {

std::optional<OutputFormat> parse_output_format(const std::string& name) {
  if (name.empty() || name == "table") return OutputFormat::kTable;
  if (name == "wide") return OutputFormat::kWide;
  if (name == "json") return OutputFormat::kJson;
  if (name == "yaml") return OutputFormat::kYaml;
  return std::nullopt;
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
