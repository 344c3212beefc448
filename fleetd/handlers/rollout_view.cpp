#include "fleetd/handlers/rollout_view.hpp"

#include <string>
#include <vector>

#include "common/time_format.hpp"
#include "rollout/strategy_json.hpp"

namespace fleet {
namespace {

using nlohmann::json;

void put_time(json& j, const char* key, const std::optional<rollout::TimePoint>& t) {
  if (t) j[key] = format_rfc3339(*t);
}

json gates_view(const rollout::RunState& st) {
  const rollout::Strategy& strategy = st.spec.strategy;
  json gates = json::array();
  const auto refs = rollout::all_gates(strategy);
  for (std::size_t i = 0; i < refs.size() && i < st.gates.size(); ++i) {
    const auto& g = st.gates[i];
    json gj = {{"name", g.name},
               {"type", rollout::to_string(refs[i].gate->type)},
               {"state", rollout::to_string(g.phase)},
               {"stage", strategy.stages[refs[i].stage].name},
               {"position", refs[i].before ? "before" : "after"},
               {"message", g.message}};
    if (refs[i].group) gj["group"] = strategy.stages[refs[i].stage].groups[*refs[i].group].name;
    if (!g.approved_by.empty()) gj["approvedBy"] = g.approved_by;
    put_time(gj, "openedAt", g.opened_at);
    gates.push_back(std::move(gj));
  }
  return gates;
}

json member_view(const rollout::MemberState& m, const rollout::StageSpec& spec, std::int64_t estimate_seconds) {
  json mj = {{"cluster", m.cluster},
             {"group", spec.groups[m.group].name},
             {"state", rollout::to_string(m.phase)},
             {"fromVersion", m.from_version},
             {"toVersion", m.to_version},
             {"step", std::min(m.step + 1, m.steps.size())},
             {"steps", m.steps.size()},
             {"currentStep", m.step < m.steps.size() ? rollout::describe(m.steps[m.step]) : ""},
             {"attempt", m.attempt},
             {"message", m.message},
             {"estimateSeconds", estimate_seconds}};
  if (!m.skip_reason.empty()) mj["skipReason"] = m.skip_reason;
  // A blue-green step past its Replace (issue #13 item 4): Soak (until soakUntil, :rollback allowed), Retire or
  // Restore.
  if (m.step < m.steps.size() && !m.steps[m.step].replacement.empty() && m.swap != rollout::SwapStage::kReplace) {
    mj["blueGreen"] = {{"stage", rollout::to_string(m.swap)}};
    put_time(mj["blueGreen"], "soakUntil", m.soak_until);
  }
  // The cluster's own maintenance window (its provider's, read by the agent) kept the current step from beginning.
  if (m.provider_closed_until) {
    mj["providerWindow"] = {{"message", m.provider_window}};
    put_time(mj["providerWindow"], "closedUntil", m.provider_closed_until);
  }
  put_time(mj, "startedAt", m.started_at);
  put_time(mj, "finishedAt", m.finished_at);
  return mj;
}

// `estimates`: each member's from the plan, beside st.members.
json stages_view(const rollout::RunState& st, const std::vector<std::int64_t>& estimates) {
  const rollout::Strategy& strategy = st.spec.strategy;
  json stages = json::array();
  for (std::size_t s = 0; s < strategy.stages.size(); ++s) {
    const auto& spec = strategy.stages[s];
    const auto& ss = st.stages[s];
    json groups = json::array();
    for (std::size_t g = 0; g < spec.groups.size(); ++g) {
      groups.push_back({{"name", spec.groups[g].name}, {"state", rollout::to_string(ss.groups[g].phase)}});
    }
    json members = json::array();
    int stage_members = 0;
    for (std::size_t i = 0; i < st.members.size(); ++i) {
      const auto& m = st.members[i];
      if (m.stage != s) continue;
      ++stage_members;
      members.push_back(member_view(m, spec, i < estimates.size() ? estimates[i] : 0));
    }
    json sj = {{"name", spec.name},
               {"state", rollout::to_string(ss.phase)},
               {"groups", std::move(groups)},
               {"members", std::move(members)}};
    if (spec.max_concurrency) sj["concurrency"] = spec.max_concurrency->resolve_concurrency(stage_members);
    put_time(sj, "soakUntil", ss.soak_until);
    stages.push_back(std::move(sj));
  }
  return stages;
}

}  // namespace

json rollout_view(const store::StoredRollout& run) {
  const rollout::RunState& st = run.state;
  const rollout::Strategy& strategy = st.spec.strategy;
  const rollout::MemberCounts c = rollout::count_members(st);
  json out = {{"name", st.name},
              {"state", rollout::to_string(st.phase)},
              {"message", st.message},
              {"target", rollout::to_json(st.spec.target)},
              {"strategy", rollout::to_json(strategy)},
              {"nodeUpgrade", rollout::to_json(st.spec)["nodeUpgrade"]},
              {"createdBy", run.meta.created_by},
              {"createdAt", run.meta.created_at},
              {"updatedAt", run.meta.updated_at},
              {"resourceVersion", std::to_string(run.meta.resource_version)},
              {"estimateSeconds", run.meta.estimate_seconds},
              {"counts",
               {{"total", st.members.size()},
                {"pending", c.pending},
                {"upgrading", c.upgrading},
                {"probing", c.probing},
                {"succeeded", c.succeeded},
                {"failed", c.failed},
                {"skipped", c.skipped},
                {"waitingForWindow", c.waiting_for_window}}}};
  if (!st.spec.strategy_ref.empty()) out["strategyRef"] = st.spec.strategy_ref;
  put_time(out, "startedAt", st.started_at);
  put_time(out, "finishedAt", st.finished_at);

  out["gates"] = gates_view(st);
  // Estimates come from the plan the run was created from.
  out["stages"] = stages_view(st, run.meta.member_estimates);
  return out;
}

}  // namespace fleet
