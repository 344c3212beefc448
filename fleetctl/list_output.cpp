#include "fleetctl/list_output.hpp"

#include "fleetctl/json_fields.hpp"
#include "fleetctl/jsonpath.hpp"

namespace fleet::ctl {
namespace {

std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Renders `document` for the formats that do not draw a table; false when `format` draws one.
bool print_document(Session& session, const nlohmann::json& document, const ListOptions& options, OutputFormat format) {
  if (is_document_format(format)) {
    session.out() << render_document(document, format);
    return true;
  }
  if (format == OutputFormat::kJsonPath) {
    // CLI11 checked the template; a failure here would be a bug, reported as a usage error all the same.
    auto parsed = JsonPathTemplate::parse(jsonpath_template_of(options.output));
    if (!parsed) {
      session.fail(parsed.error());
      return true;
    }
    session.out() << parsed->render(document);
    return true;
  }
  return false;
}

}  // namespace

std::string object_name(const std::string& kind, const nlohmann::json& item) {
  std::string name;
  if (kind == "token" || kind == "probe") {
    name = scalar_text(member_or_null(item, "id"));
  } else if (kind == "version") {
    name = string_field(item, "provider") + "/" + string_field(item, "version");
  } else if (kind == "gpu") {
    name = string_field(item, "cluster") + "/" + string_field(item, "node") + "/" +
           scalar_text(member_or_null(item, "index"));
  } else if (kind == "node" && !string_field(item, "cluster").empty()) {
    name = string_field(item, "cluster") + "/" + string_field(item, "name");
  } else {
    name = string_field(item, "name");
  }
  return kind + "/" + name;
}

std::string without_header(const std::string& table) {
  const auto newline = table.find('\n');
  return newline == std::string::npos ? std::string() : table.substr(newline + 1);
}

int print_list(Session& session, std::vector<nlohmann::json> items, const ListOptions& options, const std::string& kind,
               const TableRenderer& table, nlohmann::json document) {
  const auto format = parse_output_format(options.output).value_or(OutputFormat::kTable);
  if (!options.sort_by.empty()) {
    if (auto sorted = sort_by_jsonpath(items, options.sort_by); !sorted) return session.fail(sorted.error());
  }
  if (format == OutputFormat::kJsonPath || is_document_format(format)) {
    if (document.is_object()) {
      document["items"] = items;
    } else {
      document = as_list(items);
    }
    print_document(session, document, options, format);
    return 0;
  }
  if (items.empty()) {
    session.err() << "No resources found.\n";
    return 0;
  }
  if (format == OutputFormat::kName) {
    for (const auto& item : items) session.out() << object_name(kind, item) << "\n";
    return 0;
  }
  const std::string text = table(items);
  session.out() << (options.no_headers ? without_header(text) : text);
  return 0;
}

int print_object(Session& session, const nlohmann::json& object, const ListOptions& options, const std::string& kind,
                 const TableRenderer& table) {
  const auto format = parse_output_format(options.output).value_or(OutputFormat::kTable);
  if (print_document(session, object, options, format)) return 0;
  if (format == OutputFormat::kName) {
    session.out() << object_name(kind, object) << "\n";
    return 0;
  }
  const std::string text = table({object});
  session.out() << (options.no_headers ? without_header(text) : text);
  return 0;
}

}  // namespace fleet::ctl
