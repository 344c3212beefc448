#include "fleetctl/document_file.hpp"

#include <array>
#include <fstream>
#include <istream>

#include "api/yaml_json.hpp"

namespace fleet::ctl {
namespace {

std::string shown_name(const std::string& file) {
  return file == "-" ? "stdin" : "\"" + file + "\"";
}

// Stops reading as soon as the limit is passed: stdin may be endless.
Result<std::string> read_bounded(std::istream& in, const std::string& shown) {
  std::string text;
  std::array<char, 64 * 1024> buffer{};
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxDocumentFileBytes) {
      return make_error(ErrorCode::kTooLarge, shown + " is larger than " + std::to_string(kMaxDocumentFileBytes >> 20) +
                                                  " MiB: split it into several files");
    }
  }
  return text;
}

Result<std::string> read_text(Session& session, const std::string& file) {
  const std::string shown = shown_name(file);
  if (file == "-") return read_bounded(session.in(), shown);
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(ErrorCode::kInvalid, "cannot read " + shown);
  return read_bounded(in, shown);
}

// JSON first (one value), else YAML (a stream of documents, empty ones dropped).
Result<std::vector<nlohmann::json>> parse_documents(const std::string& content, const std::string& shown) {
  auto document = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (!document.is_discarded()) return std::vector<nlohmann::json>{std::move(document)};
  auto yaml = api::parse_yaml_documents(content);
  if (!yaml) return make_error(ErrorCode::kInvalid, shown + " is neither JSON nor YAML: " + yaml.error().message);
  std::vector<nlohmann::json> documents;
  for (auto& d : *yaml) {
    if (!d.is_null()) documents.push_back(std::move(d));
  }
  return documents;
}

bool is_list(const nlohmann::json& document) {
  const auto kind = document.find("kind");
  return kind != document.end() && *kind == "List" && document.contains("items");
}

}  // namespace

Result<nlohmann::json> read_document_file(Session& session, const std::string& file) {
  const std::string shown = shown_name(file);
  auto content = read_text(session, file);
  if (!content) return content.error();
  auto documents = parse_documents(*content, shown);
  if (!documents) return documents.error();
  if (documents->size() > 1) return make_error(ErrorCode::kInvalid, shown + " holds more than one document");
  if (documents->empty() || !documents->front().is_object()) {
    return make_error(ErrorCode::kInvalid, shown + " does not hold an object");
  }
  return std::move(documents->front());
}

Result<std::vector<nlohmann::json>> read_documents(Session& session, const std::string& file) {
  const std::string shown = shown_name(file);
  auto content = read_text(session, file);
  if (!content) return content.error();
  auto parsed = parse_documents(*content, shown);
  if (!parsed) return parsed.error();
  std::vector<nlohmann::json> documents;
  for (auto& d : *parsed) {
    if (!d.is_object() || !is_list(d)) {
      documents.push_back(std::move(d));
      continue;
    }
    auto& items = d["items"];
    if (!items.is_array()) return make_error(ErrorCode::kInvalid, shown + ": the List's \"items\" is not an array");
    for (auto& item : items) documents.push_back(std::move(item));
  }
  if (documents.empty()) return make_error(ErrorCode::kInvalid, shown + " holds no document");
  for (std::size_t i = 0; i < documents.size(); ++i) {
    if (documents[i].is_object()) continue;
    if (documents.size() == 1) return make_error(ErrorCode::kInvalid, shown + " does not hold an object");
    return make_error(ErrorCode::kInvalid, "document " + std::to_string(i + 1) + " of " + shown + " is not an object");
  }
  return documents;
}

}  // namespace fleet::ctl
