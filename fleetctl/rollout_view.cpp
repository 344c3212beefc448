#include "fleetctl/rollout_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>

#include "fleetctl/age.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/table.hpp"

namespace fleet::ctl {
namespace {

constexpr long kBarCells = 10;

// Server text on one line: a control character could move the cursor of a terminal that is being redrawn.
std::string one_line(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

std::int64_t int_field(const nlohmann::json& object, const char* key) {
  const auto& v = member_or_null(object, key);
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number()) return static_cast<std::int64_t>(v.get<double>());
  return 0;
}

// A number or a string ("2", "50%"), as a stage's concurrency is written.
std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  if (v.is_number()) return std::to_string(static_cast<std::int64_t>(v.get<double>()));
  return "";
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string joined(const nlohmann::json& list, const char* separator) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& v : list) {
    if (v.is_string()) out += (out.empty() ? "" : separator) + v.get<std::string>();
  }
  return out;
}

const nlohmann::json& array_field(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const auto& v = member_or_null(object, key);
  return v.is_array() ? v : kEmpty;
}

// "AlreadyAtTarget: cluster is at 1.32.7", either part alone when the other is missing.
std::string skip_text(const nlohmann::json& member) {
  const std::string reason = string_field(member, "skipReason");
  std::string message = string_field(member, "message");
  if (reason.empty()) return message;
  return message.empty() || message == reason ? reason : reason + ": " + message;
}

// Each table line indented, as one StatusLine per row, keyed by `keys` (the header's key first).
void add_table(std::vector<StatusLine>& lines, const std::string& indent, const std::vector<std::string>& keys,
               const TableRow& header, const std::vector<TableRow>& rows) {
  const std::string table = render_table(header, rows);
  std::size_t start = 0, index = 0;
  while (start < table.size()) {
    const auto end = table.find('\n', start);
    lines.push_back(
        {index < keys.size() ? keys[index] : std::to_string(index), indent + table.substr(start, end - start)});
    ++index;
    start = end + 1;
  }
}

std::string member_step(const nlohmann::json& m) {
  const std::string state = string_field(m, "state");
  const auto step = int_field(m, "step");
  const auto steps = int_field(m, "steps");
  if (steps <= 0) return "-";
  // A member stopped between steps (its window closed) waits with some steps done: say how many.
  if ((state == "Pending" || state == "WaitingForWindow") && step > 1) {
    return std::to_string(step - 1) + "/" + std::to_string(steps) + " done";
  }
  if (state == "Pending" || state == "WaitingForWindow" || state == "Skipped") return "-";
  if (state == "Succeeded") return std::to_string(steps) + "/" + std::to_string(steps);
  std::string text = std::to_string(step) + "/" + std::to_string(steps);
  const std::string current = string_field(m, "currentStep");
  return current.empty() ? text : text + " " + current;
}

std::string member_detail(const nlohmann::json& m) {
  const std::string state = string_field(m, "state");
  const std::string message = string_field(m, "message");
  std::string detail;
  if (state == "Upgrading" || state == "Probing") {
    detail = "ETA " + estimate_text(member_or_null(m, "estimateSeconds"));
    if (!message.empty()) detail += ", " + message;
  } else if (state == "Skipped") {
    detail = skip_text(m);
  } else if (!message.empty()) {
    detail = message;
  } else {
    detail = state == "Pending" ? "waiting" : state == "Succeeded" ? "done" : "";
  }
  const auto attempt = int_field(m, "attempt");
  if (attempt > 1) detail = "attempt " + std::to_string(attempt) + (detail.empty() ? "" : ", " + detail);
  return detail;
}

std::string stage_progress(const nlohmann::json& stage) {
  long total = 0, done = 0, failed = 0;
  for (const auto& m : array_field(stage, "members")) {
    const std::string state = string_field(m, "state");
    ++total;
    if (state == "Succeeded" || state == "Skipped") ++done;
    if (state == "Failed") ++failed;
  }
  std::string text = progress_bar(done, total);
  if (failed > 0) text += ", " + std::to_string(failed) + " failed";
  return text;
}

void field_line(std::vector<StatusLine>& lines, const std::string& key, const std::string& label,
                const std::string& value) {
  std::string text = label + ":";
  text.append(text.size() < 11 ? 11 - text.size() : 1, ' ');
  lines.push_back({key, text + one_line(value)});
}

}  // namespace

std::string estimate_text(const nlohmann::json& seconds) {
  if (!seconds.is_number()) return "-";
  const double value = seconds.get<double>();
  if (value < 0) return "-";
  const auto s = static_cast<std::int64_t>(std::llround(value));
  auto unit_pair = [](std::int64_t big, const char* big_unit, std::int64_t small, const char* small_unit) {
    return std::to_string(big) + big_unit + (small > 0 ? std::to_string(small) + small_unit : "");
  };
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return unit_pair(s / 60, "m", s % 60, "s");
  if (s < 86400) return unit_pair(s / 3600, "h", (s % 3600) / 60, "m");
  return unit_pair(s / 86400, "d", (s % 86400) / 3600, "h");
}

std::string progress_bar(long done, long total) {
  const long filled = total > 0 ? std::clamp(done * kBarCells / total, 0L, kBarCells) : 0;
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(kBarCells - filled), '-') + "] " + std::to_string(done) + "/" +
         std::to_string(total);
}

std::string target_text(const nlohmann::json& target) {
  const std::string type = string_field(target, "type");
  std::string text = type.empty() ? kNone : type;
  const std::string version = string_field(target, "kubernetesVersion");
  if (!version.empty()) text += " " + version;
  if (type == "NodeImageOnly") {
    const std::string selection = string_field(target, "nodeImageSelection");
    const std::string image = string_field(target, "nodeImageVersion");
    if (selection == "Custom" && !image.empty()) {
      text += " " + image;
    } else if (!selection.empty()) {
      text += " " + selection;
    }
  }
  return text;
}

std::string rollouts_table(const std::vector<nlohmann::json>& rollouts, bool wide,
                           std::chrono::system_clock::time_point now) {
  TableRow header = {"NAME", "STATE", "TARGET", "PROGRESS", "FAILED", "AGE"};
  if (wide) header.insert(header.end(), {"STRATEGY", "MESSAGE"});
  std::vector<TableRow> rows;
  for (const auto& r : rollouts) {
    const auto& counts = member_or_null(r, "counts");
    TableRow row = {or_dash(string_field(r, "name")),
                    or_dash(string_field(r, "state")),
                    target_text(member_or_null(r, "target")),
                    std::to_string(int_field(counts, "succeeded")) + "/" + std::to_string(int_field(counts, "total")),
                    std::to_string(int_field(counts, "failed")),
                    age_of(string_field(r, "createdAt"), now)};
    if (wide) {
      const std::string ref = string_field(r, "strategyRef");
      row.insert(row.end(), {ref.empty() ? "<inline>" : ref, string_field(r, "message")});
    }
    rows.push_back(std::move(row));
  }
  return render_table(header, rows);
}

std::string strategies_table(const std::vector<nlohmann::json>& strategies, std::chrono::system_clock::time_point now) {
  std::vector<TableRow> rows;
  for (const auto& s : strategies) {
    std::string stages;
    for (const auto& stage : array_field(s, "stages")) {
      stages += (stages.empty() ? "" : ",") + or_dash(string_field(stage, "name"));
    }
    rows.push_back(
        {or_dash(string_field(s, "name")), stages.empty() ? kNone : stages, age_of(string_field(s, "createdAt"), now)});
  }
  return render_table({"NAME", "STAGES", "AGE"}, rows);
}

std::string auto_upgrade_profiles_table(const std::vector<nlohmann::json>& profiles,
                                        std::chrono::system_clock::time_point now) {
  std::vector<TableRow> rows;
  bool any_error = false;
  for (const auto& p : profiles) any_error |= !string_field(member_or_null(p, "status"), "lastError").empty();
  for (const auto& p : profiles) {
    const nlohmann::json& status = member_or_null(p, "status");
    std::string channel = or_dash(string_field(p, "channel"));
    const std::string minor = string_field(p, "targetKubernetesVersion");
    if (!minor.empty()) channel += " " + minor;
    const nlohmann::json& enabled = member_or_null(p, "enabled");
    const bool start = member_or_null(p, "startRuns") == true;
    TableRow row = {or_dash(string_field(p, "name")),
                    channel,
                    or_dash(string_field(p, "strategyRef")),
                    enabled == false ? "no" : (start ? "yes, starts runs" : "yes"),
                    or_dash(string_field(member_or_null(status, "selectedRelease"), "key")),
                    or_dash(string_field(status, "lastRollout")),
                    age_of(string_field(p, "createdAt"), now)};
    if (any_error) row.push_back(string_field(status, "lastError").empty() ? "-" : "yes");
    rows.push_back(std::move(row));
  }
  TableRow header = {"NAME", "CHANNEL", "STRATEGY", "ENABLED", "SELECTED", "LAST-RUN", "AGE"};
  if (any_error) header.push_back("ERROR");
  return render_table(header, rows);
}

std::string events_table(const std::vector<nlohmann::json>& events) {
  std::vector<TableRow> rows;
  rows.reserve(events.size());
  for (const auto& e : events) {
    rows.push_back({or_dash(string_field(e, "at")), or_dash(string_field(e, "scope")), or_dash(string_field(e, "name")),
                    or_dash(string_field(e, "from")), or_dash(string_field(e, "to")), string_field(e, "message")});
  }
  return render_table({"AT", "SCOPE", "NAME", "FROM", "TO", "MESSAGE"}, rows);
}

std::string plan_text(const nlohmann::json& plan) {
  std::string out = "Target:     " + one_line(target_text(member_or_null(plan, "target"))) + "\n";
  out += "Approvals:  " + std::to_string(int_field(plan, "approvals")) + "\n";
  for (const auto& w : array_field(plan, "warnings")) {
    if (w.is_string()) out += "Warning:    " + one_line(w.get<std::string>()) + "\n";
  }

  // Stages in the plan's order; a member naming a stage the plan does not list still shows, after them.
  std::vector<std::string> order;
  std::map<std::string, const nlohmann::json*> stages;
  for (const auto& s : array_field(plan, "stages")) {
    const std::string name = string_field(s, "name");
    if (stages.emplace(name, &s).second) order.push_back(name);
  }
  std::map<std::string, std::vector<const nlohmann::json*>> members;
  for (const auto& m : array_field(plan, "members")) {
    const std::string stage = string_field(m, "stage");
    if (!stages.count(stage) && !members.count(stage)) order.push_back(stage);
    members[stage].push_back(&m);
  }

  for (const auto& name : order) {
    const auto& in_stage = members[name];
    const nlohmann::json* stage = stages.count(name) ? stages[name] : nullptr;
    std::string header = "Stage " + one_line(or_dash(name)) + ": " + plural(in_stage.size(), "cluster", "clusters");
    if (stage) {
      header += ", " + plural(array_field(*stage, "batches").size(), "batch", "batches");
      const std::string concurrency = scalar_text(member_or_null(*stage, "concurrency"));
      if (!concurrency.empty()) header += ", concurrency " + concurrency;
      header += ", estimate " + estimate_text(member_or_null(*stage, "estimateSeconds"));
    }
    out += "\n" + header + "\n";
    if (in_stage.empty()) {
      out += "  (no clusters)\n";
      continue;
    }
    std::vector<TableRow> rows;
    for (const auto* m : in_stage) {
      const bool skipped = !member_or_null(*m, "skipReason").is_null();
      const auto& steps = member_or_null(*m, "steps");
      rows.push_back(
          {or_dash(string_field(*m, "cluster")), or_dash(string_field(*m, "group")),
           or_dash(string_field(*m, "fromVersion")), or_dash(string_field(*m, "toVersion")),
           skipped || !steps.is_array() ? "-" : std::to_string(steps.size()),
           skipped ? "SKIPPED (" + skip_text(*m) + ")" : estimate_text(member_or_null(*m, "estimateSeconds"))});
    }
    const std::string table = render_table({"CLUSTER", "GROUP", "FROM", "TO", "STEPS", "ESTIMATE"}, rows);
    std::size_t start = 0;
    while (start < table.size()) {
      const auto end = table.find('\n', start);
      out += "  " + table.substr(start, end - start + 1);
      start = end + 1;
    }
  }

  const std::string unmatched = joined(member_or_null(plan, "unmatched"), ", ");
  out += "\nUnmatched:  " + (unmatched.empty() ? std::string(kNone) : one_line(unmatched) + " (in no stage)") + "\n";
  out += "Estimate:   " + estimate_text(member_or_null(plan, "estimateSeconds")) + "\n";
  return out;
}

std::vector<StatusLine> rollout_status_lines(const nlohmann::json& rollout) {
  std::vector<StatusLine> lines;
  const std::string state = string_field(rollout, "state");
  field_line(lines, "name", "Name", or_dash(string_field(rollout, "name")));
  field_line(lines, "state", "State", state.empty() ? kNone : state);
  const std::string message = string_field(rollout, "message");
  if (!message.empty()) field_line(lines, "message", "Message", message);
  field_line(lines, "target", "Target", target_text(member_or_null(rollout, "target")));
  const std::string ref = string_field(rollout, "strategyRef");
  const auto stage_count = array_field(member_or_null(rollout, "strategy"), "stages").size();
  field_line(lines, "strategy", "Strategy", ref.empty() ? "inline, " + plural(stage_count, "stage", "stages") : ref);
  for (const auto& [key, label] : {std::pair<const char*, const char*>{"createdAt", "Created"},
                                   {"startedAt", "Started"},
                                   {"finishedAt", "Finished"}}) {
    const std::string at = string_field(rollout, key);
    if (!at.empty()) field_line(lines, key, label, at);
  }
  const auto& counts = member_or_null(rollout, "counts");
  field_line(lines, "counts", "Progress",
             std::to_string(int_field(counts, "succeeded")) + "/" + std::to_string(int_field(counts, "total")) +
                 " succeeded, " + std::to_string(int_field(counts, "upgrading")) + " upgrading, " +
                 std::to_string(int_field(counts, "probing")) + " probing, " +
                 std::to_string(int_field(counts, "failed")) + " failed, " +
                 std::to_string(int_field(counts, "skipped")) + " skipped, " +
                 std::to_string(int_field(counts, "pending")) + " pending" +
                 (int_field(counts, "waitingForWindow") > 0
                      ? ", " + std::to_string(int_field(counts, "waitingForWindow")) + " waiting for their window"
                      : ""));
  const bool finished = state == "Completed" || state == "Failed" || state == "Aborted";
  if (!finished && member_or_null(rollout, "estimateSeconds").is_number()) {
    field_line(lines, "eta", "ETA", estimate_text(member_or_null(rollout, "estimateSeconds")));
  }

  const auto& gates = array_field(rollout, "gates");
  if (gates.empty()) {
    field_line(lines, "gates", "Gates", kNone);
  } else {
    lines.push_back({"gates", "Gates:"});
    std::vector<std::string> keys = {"gates-header"};
    std::vector<TableRow> rows;
    for (const auto& g : gates) {
      const std::string stage = string_field(g, "stage");
      const std::string group = string_field(g, "group");
      keys.push_back("gate:" + string_field(g, "name"));
      rows.push_back({or_dash(string_field(g, "name")), or_dash(string_field(g, "type")),
                      or_dash(string_field(g, "state")), or_dash(group.empty() ? stage : stage + "/" + group),
                      string_field(g, "message")});
    }
    add_table(lines, "  ", keys, {"NAME", "TYPE", "STATE", "SCOPE", "MESSAGE"}, rows);
  }

  const auto& stages = array_field(rollout, "stages");
  std::size_t name_width = 0, state_width = 0;
  for (const auto& s : stages) {
    name_width = std::max(name_width, one_line(or_dash(string_field(s, "name"))).size());
    state_width = std::max(state_width, or_dash(string_field(s, "state")).size());
  }
  for (const auto& s : stages) {
    const std::string name = one_line(or_dash(string_field(s, "name")));
    const std::string stage_state = or_dash(string_field(s, "state"));
    std::string text = "Stage " + name + std::string(name_width - name.size() + 3, ' ') + stage_state +
                       std::string(state_width - stage_state.size() + 3, ' ') + stage_progress(s);
    const std::string soak = string_field(s, "soakUntil");
    if (stage_state == "Soaking" && !soak.empty()) text += ", soaking until " + one_line(soak);
    lines.push_back({"stage:" + name, text});
    const auto& members = array_field(s, "members");
    if (members.empty()) continue;
    std::vector<std::string> keys = {"stage-header:" + name};
    std::vector<TableRow> rows;
    for (const auto& m : members) {
      keys.push_back("member:" + name + "/" + string_field(m, "cluster"));
      rows.push_back(
          {or_dash(string_field(m, "cluster")), or_dash(string_field(m, "state")), member_step(m), member_detail(m)});
    }
    add_table(lines, "  ", keys, {"CLUSTER", "STATE", "STEP", "ETA/MESSAGE"}, rows);
  }
  return lines;
}

std::string join_lines(const std::vector<StatusLine>& lines) {
  std::string out;
  for (const auto& line : lines) out += line.text + "\n";
  return out;
}

}  // namespace fleet::ctl
