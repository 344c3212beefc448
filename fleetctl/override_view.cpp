#include "fleetctl/override_view.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "fleetctl/age.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/table.hpp"

namespace fleet::ctl {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxValueText = 80;  // an operation stays one readable line; `get -o json` shows it all

const json& array_field(const json& object, const char* key) {
  static const json kEmpty = json::array();
  const json& v = member_or_null(object, key);
  return v.is_array() ? v : kEmpty;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

std::string number_text(const json& v) {
  return v.is_number() ? v.dump() : "-";
}

std::string value_text(const json& v) {
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxValueText) {
    text.resize(kMaxValueText);  // in place: GCC 12 takes substr(0, n) + "…" for an out-of-bounds copy (-Warray-bounds)
    text += "…";
  }
  return text;
}

// "replace /0/spec/replicas = 3", "move /a <- /b", "remove /0/data".
std::string op_text(const json& op) {
  std::string out = string_field(op, "op") + " " + or_dash(string_field(op, "path"));
  if (op.contains("from")) out += " <- " + string_field(op, "from");
  if (op.contains("value")) out += " = " + value_text(op.at("value"));
  return out;
}

std::string lines_of(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, key.size() + 3);
  std::string out;
  for (const auto& [key, value] : fields) {
    std::string line = key.empty() ? "" : key + ":";
    line.resize(width, ' ');
    line += value.empty() ? "<none>" : value;
    for (char& ch : line) {
      if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
    }
    out += line + "\n";
  }
  return out;
}

std::string timestamp_with_age(const std::string& ts, std::chrono::system_clock::time_point now) {
  if (ts.empty()) return "";
  const std::string age = age_of(ts, now);
  return age == "<unknown>" ? ts : ts + " (" + age + " ago)";
}

std::string joined_strings(const json& list) {
  std::string out;
  for (const auto& v : list) {
    if (v.is_string()) out += (out.empty() ? "" : ", ") + v.get<std::string>();
  }
  return out;
}

}  // namespace

std::string overrides_table(const std::vector<json>& overrides, std::chrono::system_clock::time_point now) {
  std::vector<TableRow> rows;
  rows.reserve(overrides.size());
  for (const json& o : overrides) {
    rows.push_back({or_dash(string_field(o, "name")), or_dash(joined_strings(array_field(o, "workloads"))),
                    std::to_string(array_field(o, "rules").size()), number_text(member_or_null(o, "generation")),
                    age_of(string_field(o, "createdAt"), now)});
  }
  return render_table({"NAME", "WORKLOADS", "RULES", "GENERATION", "AGE"}, rows);
}

std::string describe_override(const json& o, std::chrono::system_clock::time_point now) {
  std::vector<std::pair<std::string, std::string>> fields;
  fields.emplace_back("Name", string_field(o, "name"));
  fields.emplace_back("Workloads", joined_strings(array_field(o, "workloads")));
  const json& rules = array_field(o, "rules");
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const std::string selector = string_field(member_or_null(rules[i], "clusterSelector"), "labelSelector");
    fields.emplace_back("Rule " + std::to_string(i), selector.empty() ? "every cluster" : "clusters " + selector);
    for (const auto& op : array_field(rules[i], "jsonPatches")) fields.emplace_back("", "  " + op_text(op));
  }
  fields.emplace_back("Generation", number_text(member_or_null(o, "generation")));
  fields.emplace_back("Resource Version", string_field(o, "resourceVersion"));
  fields.emplace_back("Created", timestamp_with_age(string_field(o, "createdAt"), now));
  fields.emplace_back("Updated", timestamp_with_age(string_field(o, "updatedAt"), now));
  return lines_of(fields);
}

std::string applied_overrides_text(const json& applied) {
  std::string out;
  for (const auto& a : applied.is_array() ? applied : json::array()) {
    const json& rules = array_field(a, "rules");
    std::string indexes;
    for (const auto& r : rules) indexes += (indexes.empty() ? "" : ",") + number_text(r);
    out += (out.empty() ? "" : "; ") + string_field(a, "override") + " (rule" + (rules.size() == 1 ? " " : "s ") +
           indexes + ")";
  }
  return or_dash(out);
}

}  // namespace fleet::ctl
