#include "fleetctl/cluster_view.hpp"

#include <algorithm>

#include "fleetctl/age.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/table.hpp"

namespace fleet::ctl {
namespace {

std::string or_none(const std::string& s) {
  return s.empty() ? kNone : s;
}

std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

std::vector<std::string> label_parts(const nlohmann::json& labels) {
  std::vector<std::string> parts;
  if (!labels.is_object()) return parts;
  for (const auto& [k, v] : labels.items()) parts.push_back(k + "=" + scalar_text(v));  // json objects iterate sorted
  return parts;
}

std::vector<std::string> taint_parts(const nlohmann::json& taints) {
  std::vector<std::string> parts;
  if (!taints.is_array()) return parts;
  for (const auto& t : taints) {
    const std::string value = string_field(t, "value");
    parts.push_back(string_field(t, "key") + (value.empty() ? "" : "=" + value) + ":" + string_field(t, "effect"));
  }
  return parts;
}

std::string timestamp_with_age(const std::string& ts, std::chrono::system_clock::time_point now) {
  if (ts.empty()) return kNone;
  const std::string age = age_of(ts, now);
  return age == "<unknown>" ? ts : ts + " (" + age + " ago)";
}

}  // namespace

std::string labels_text(const nlohmann::json& labels, const char* separator) {
  return join(label_parts(labels), separator);
}

std::string taints_text(const nlohmann::json& taints, const char* separator) {
  return join(taint_parts(taints), separator);
}

std::string clusters_table(const std::vector<nlohmann::json>& clusters, bool wide,
                           std::chrono::system_clock::time_point now) {
  TableRow header = {"NAME", "PROVIDER", "REGION", "STATE", "VERSION", "AGE"};
  if (wide) header.insert(header.end(), {"UPDATE-GROUP", "NODE-IMAGE", "LABELS", "TAINTS"});
  std::vector<TableRow> rows;
  rows.reserve(clusters.size());
  for (const auto& c : clusters) {
    TableRow row = {string_field(c, "name"),
                    string_field(c, "provider"),
                    or_none(string_field(c, "region")),
                    string_field(c, "state"),
                    or_none(string_field(c, "kubernetesVersion")),
                    age_of(string_field(c, "createdAt"), now)};
    if (wide) {
      row.insert(row.end(), {or_none(string_field(c, "updateGroup")), or_none(string_field(c, "nodeImageVersion")),
                             or_none(labels_text(member_or_null(c, "labels"))),
                             or_none(taints_text(member_or_null(c, "taints")))});
    }
    rows.push_back(std::move(row));
  }
  return render_table(header, rows);
}

std::string describe_cluster(const nlohmann::json& c, std::chrono::system_clock::time_point now) {
  struct Line {
    std::string key;  // "" → continuation of the previous key's value
    std::string value;
  };
  std::vector<Line> lines;
  auto add = [&](const std::string& key, const std::string& value) { lines.push_back({key, or_none(value)}); };
  auto add_multi = [&](const std::string& key, const std::vector<std::string>& values) {
    if (values.empty()) {
      add(key, "");
      return;
    }
    lines.push_back({key, values.front()});
    for (std::size_t i = 1; i < values.size(); ++i) lines.push_back({"", values[i]});
  };

  add("Name", string_field(c, "name"));
  add("Provider", string_field(c, "provider"));
  add("Region", string_field(c, "region"));
  add("State", string_field(c, "state"));
  add("Update Group", string_field(c, "updateGroup"));
  lines.push_back({"Versions", ""});
  add("  Kubernetes", string_field(c, "kubernetesVersion"));
  add("  Node Image", string_field(c, "nodeImageVersion"));
  add("  Agent", string_field(c, "agentVersion"));
  add_multi("Labels", label_parts(member_or_null(c, "labels")));
  add_multi("Taints", taint_parts(member_or_null(c, "taints")));
  add("Last Heartbeat", timestamp_with_age(string_field(c, "lastHeartbeat"), now));
  add("Resource Version", string_field(c, "resourceVersion"));
  add("Created", timestamp_with_age(string_field(c, "createdAt"), now));

  std::size_t width = 0;
  for (const auto& l : lines) width = std::max(width, l.key.size() + 1);
  width += 2;
  std::string out;
  for (const auto& l : lines) {
    std::string text = l.key.empty() ? std::string(width, ' ') : l.key + ":";
    if (!l.value.empty()) {
      text.resize(std::max(text.size(), width), ' ');
      text += l.value;
    }
    for (char& ch : text) {
      if (static_cast<unsigned char>(ch) < 0x20) ch = '?';
    }
    out += text + "\n";
  }
  return out;
}

}  // namespace fleet::ctl
