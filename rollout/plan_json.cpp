// The plan as the API shows it (POST /v1/rollouts:plan, POST /v1/rollouts/{name}:plan; docs/api.md).
#include <string>

#include "common/time_format.hpp"
#include "rollout/plan.hpp"
#include "rollout/strategy_json.hpp"

namespace fleet::rollout {

namespace {

// The window that applies to a member, and where it stands at the plan's time.
nlohmann::json window_json(const WindowRule& rule, std::size_t index, TimePoint now) {
  const WindowStatus status = window_status(rule.window, now);
  nlohmann::json out = {{"index", index},
                        {"clusterSelector", model::to_string(rule.selector)},
                        {"window", to_json(rule.window)},
                        {"openNow", status.open}};
  if (status.changes_at != TimePoint::max())
    out[status.open ? "closesAt" : "opensAt"] = format_rfc3339(status.changes_at);
  return out;
}

}  // namespace

nlohmann::json to_json(const Plan& plan, const RunSpec& spec) {
  using nlohmann::json;
  json stages = json::array();
  for (const auto& sp : plan.stages) {
    json groups = json::array();
    for (const auto& gp : sp.groups) {
      json names = json::array();
      for (std::size_t i : gp.members) names.push_back(plan.members[i].cluster);
      groups.push_back({{"name", gp.name}, {"concurrency", gp.concurrency}, {"members", std::move(names)}});
    }
    json stage = {{"name", sp.name},
                  {"estimateSeconds", sp.estimate.count()},
                  {"groups", std::move(groups)},
                  {"batches", sp.batches}};
    if (sp.concurrency) stage["concurrency"] = *sp.concurrency;
    stages.push_back(std::move(stage));
  }
  json members = json::array();
  for (const auto& m : plan.members) {
    json steps = json::array();
    for (const auto& s : m.steps) {
      json step = to_json(s);
      step["description"] = describe(s);
      steps.push_back(std::move(step));
    }
    json member = {{"cluster", m.cluster},
                   {"stage", plan.stages[m.stage].name},
                   {"group", plan.stages[m.stage].groups[m.group].name},
                   {"fromVersion", m.from_version},
                   {"toVersion", m.to_version},
                   {"message", m.message},
                   {"estimateSeconds", m.estimate.count()},
                   {"steps", std::move(steps)}};
    if (m.skip != SkipReason::kNone) member["skipReason"] = std::string(to_string(m.skip));
    if (m.window && *m.window < spec.strategy.maintenance_windows.size()) {
      member["maintenanceWindow"] = window_json(spec.strategy.maintenance_windows[*m.window], *m.window, plan.made_at);
    }
    members.push_back(std::move(member));
  }
  return {{"target", to_json(spec.target)}, {"estimateSeconds", plan.estimate.count()},
          {"approvals", plan.approvals},    {"warnings", plan.warnings},
          {"unmatched", plan.unmatched},    {"stages", std::move(stages)},
          {"members", std::move(members)}};
}

}  // namespace fleet::rollout
