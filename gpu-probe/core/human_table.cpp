#include "gpu-probe/core/human_table.hpp"

#include <cstdio>
#include <sstream>

namespace fleet::gpuprobe {

namespace {

std::string num(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", *v);
  return buf;
}

void row(std::ostringstream& os, const CheckResult& c) {
  char line[512];
  std::snprintf(line, sizeof line, "  %-28s %-8s %12s %12s %12s  %-9s %8.0f  %s\n", c.name.c_str(),
                std::string(to_string(c.status)).c_str(), num(c.measured).c_str(), num(c.warn_threshold).c_str(),
                num(c.fail_threshold).c_str(), c.unit.c_str(), c.duration_ms, c.message.c_str());
  os << line;
}

}  // namespace

std::string render_human(const Report& r) {
  std::ostringstream os;
  os << "gpu-probe " << r.probe_version << " on " << r.host << " (" << to_string(r.mode) << " mode)\n";
  if (!r.injected.empty()) {
    os << "INJECTED FAULTS:";
    for (const auto& i : r.injected) os << ' ' << i;
    os << '\n';
  }
  if (r.could_not_run) {
    os << "could not run (" << r.could_not_run->code << "): " << r.could_not_run->reason << '\n';
  }
  char head[256];
  std::snprintf(head, sizeof head, "  %-28s %-8s %12s %12s %12s  %-9s %8s  %s\n", "check", "status", "measured",
                "warn-at", "fail-at", "unit", "ms", "note");
  if (!r.node_checks.empty()) {
    os << "node\n" << head;
    for (const auto& c : r.node_checks) row(os, c);
  }
  for (const auto& g : r.gpus) {
    os << "GPU " << g.device.index << ": " << g.device.name << " [" << g.device.pci_bus_id << "] sku "
       << (g.sku.empty() ? "unknown" : g.sku) << " -> " << to_string(g.status) << '\n'
       << head;
    for (const auto& c : g.checks) row(os, c);
  }
  os << "verdict: " << to_string(r.verdict) << " (exit " << exit_code_for(r.verdict) << "), " << r.wall_ms / 1000.0
     << " s\n";
  return os.str();
}

}  // namespace fleet::gpuprobe
