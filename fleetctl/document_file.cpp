#include "fleetctl/document_file.hpp"

#include <fstream>
#include <sstream>

#include "api/yaml_json.hpp"

namespace fleet::ctl {

Result<nlohmann::json> read_document_file(Session& session, const std::string& file) {
  const std::string shown = file == "-" ? "stdin" : "\"" + file + "\"";
  std::stringstream text;
  if (file == "-") {
    text << session.in().rdbuf();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return make_error(ErrorCode::kInvalid, "cannot read " + shown);
    text << in.rdbuf();
  }
  const std::string content = text.str();
  auto document = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    auto yaml = api::parse_yaml(content);
    if (!yaml) return make_error(ErrorCode::kInvalid, shown + " is neither JSON nor YAML: " + yaml.error().message);
    document = std::move(*yaml);
  }
  if (!document.is_object()) return make_error(ErrorCode::kInvalid, shown + " does not hold an object");
  return document;
}

}  // namespace fleet::ctl
