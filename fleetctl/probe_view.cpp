#include "fleetctl/probe_view.hpp"

#include <cstdio>
#include <sstream>

#include "fleetctl/age.hpp"
#include "fleetctl/inventory_view.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/table.hpp"

namespace fleet::ctl {
namespace {

std::string or_none(const std::string& s) {
  return s.empty() ? kNone : s;
}

// 3015.0 → "3015", 0.951 → "0.951": at most 4 significant decimals, no trailing zeros.
std::string number_text(const nlohmann::json& v) {
  if (!v.is_number()) return "";
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
  return buf;
}

std::string list_text(const nlohmann::json& list) {
  if (!list.is_array() || list.empty()) return kNone;
  std::string out;
  for (const auto& v : list) {
    if (!v.is_string()) continue;
    out += (out.empty() ? "" : ",") + v.get<std::string>();
  }
  return or_none(out);
}

std::string duration_text(const nlohmann::json& probe) {
  const auto& d = member_or_null(probe, "durationSeconds");
  if (!d.is_number()) return kNone;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", d.get<double>());
  return buf;
}

std::string measured_text(const nlohmann::json& check) {
  std::string m = number_text(member_or_null(check, "measured"));
  if (m.empty()) return "-";
  const std::string unit = string_field(check, "unit");
  return unit.empty() ? m : m + " " + unit;
}

void add_checks(std::vector<TableRow>& rows, const std::string& gpu, const nlohmann::json& checks) {
  if (!checks.is_array()) return;
  for (const auto& c : checks) {
    const std::string threshold = threshold_text(c);
    rows.push_back({gpu, or_none(string_field(c, "name")), or_none(string_field(c, "status")), measured_text(c),
                    threshold.empty() ? "-" : threshold, string_field(c, "message")});
  }
}

std::string taints_text(const nlohmann::json& node) {
  const auto& taints = member_or_null(node, "taints");
  if (!taints.is_array() || taints.empty()) return kNone;
  std::string out;
  for (const auto& t : taints) {
    out += (out.empty() ? "" : ", ") + string_field(t, "key");
    const std::string value = string_field(t, "value");
    if (!value.empty()) out += "=" + value;
    out += ":" + string_field(t, "effect");
  }
  return out;
}

}  // namespace

std::string threshold_text(const nlohmann::json& check) {
  const std::string fail = number_text(member_or_null(check, "fail_threshold"));
  const std::string warn = number_text(member_or_null(check, "warn_threshold"));
  if (fail.empty() && warn.empty()) return "";
  const std::string cmp = string_field(check, "comparison");
  const std::string op = cmp == "at-least" ? ">= " : cmp == "at-most" ? "<= " : cmp == "equal" ? "= " : "";
  const std::string unit = string_field(check, "unit");
  const std::string suffix = unit.empty() ? "" : " " + unit;
  if (fail.empty()) return "warn " + op + warn + suffix;
  return op + fail + suffix + (warn.empty() ? "" : " (warn " + warn + ")");
}

std::string probes_table(const std::vector<nlohmann::json>& probes, bool wide,
                         std::chrono::system_clock::time_point now) {
  TableRow header = {"CLUSTER", "NODE", "VERDICT", "TRIGGER", "FAILED-CHECKS", "DURATION", "AGE"};
  if (wide) header.insert(header.end(), {"MODEL", "PROBE-ID", "REASON"});
  std::vector<TableRow> rows;
  for (const auto& p : probes) {
    TableRow row = {or_none(string_field(p, "cluster")),          or_none(string_field(p, "node")),
                    or_none(string_field(p, "verdict")),          or_none(string_field(p, "trigger")),
                    list_text(member_or_null(p, "failedChecks")), duration_text(p),
                    age_of(string_field(p, "finishedAt"), now)};
    if (wide) {
      row.insert(row.end(), {or_none(string_field(p, "model")), or_none(string_field(p, "probeId")),
                             or_none(string_field(p, "reason"))});
    }
    rows.push_back(std::move(row));
  }
  return render_table(header, rows);
}

std::string describe_node(const std::string& cluster, const nlohmann::json& node, const nlohmann::json& probe,
                          std::chrono::system_clock::time_point now) {
  std::ostringstream out;
  out << "Name:        " << or_none(string_field(node, "name")) << "\n"
      << "Cluster:     " << cluster << "\n"
      << "Pool:        " << or_none(string_field(node, "pool")) << "\n"
      << "Admission:   " << or_none(string_field(node, "admission")) << "\n"
      << "Taints:      " << taints_text(node) << "\n"
      << "GPUs:        " << node_gpus_text(node) << "\n";
  if (!probe.is_object()) {
    out << "Last probe:  " << kNone << "\n";
    return out.str();
  }
  out << "Last probe:\n"
      << "  Verdict:   " << or_none(string_field(probe, "verdict"))
      << (member_or_null(probe, "admitted") == true ? " (admitted)" : "") << "\n"
      << "  Reason:    " << or_none(string_field(probe, "reason")) << "\n"
      << "  Trigger:   " << or_none(string_field(probe, "trigger")) << "\n"
      << "  Finished:  " << or_none(string_field(probe, "finishedAt")) << " ("
      << age_of(string_field(probe, "finishedAt"), now) << " ago)\n"
      << "  Duration:  " << duration_text(probe) << "\n"
      << "  Probe:     " << or_none(string_field(probe, "probeId")) << " (gpu-probe "
      << or_none(string_field(probe, "probeVersion")) << ")\n";
  const auto& report = member_or_null(probe, "report");
  if (!report.is_object()) {
    out << "  Report:    " << kNone << " (the probe wrote none)\n";
    return out.str();
  }
  const auto& could_not_run = member_or_null(report, "could_not_run");
  if (could_not_run.is_object()) out << "  Could not run: " << string_field(could_not_run, "reason") << "\n";
  std::vector<TableRow> rows;
  add_checks(rows, "node", member_or_null(report, "node_checks"));
  const auto& gpus = member_or_null(report, "gpus");
  if (gpus.is_array()) {
    for (const auto& g : gpus) {
      const auto& index = member_or_null(g, "index");
      add_checks(rows, index.is_number_integer() ? std::to_string(index.get<int>()) : "?", member_or_null(g, "checks"));
    }
  }
  if (rows.empty()) {
    out << "Checks:      " << kNone << "\n";
  } else {
    out << "Checks:\n" << render_table({"GPU", "CHECK", "STATUS", "MEASURED", "THRESHOLD", "MESSAGE"}, rows);
  }
  return out.str();
}

}  // namespace fleet::ctl
