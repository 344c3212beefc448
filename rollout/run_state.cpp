#include "rollout/run_state.hpp"

#include <array>
#include <utility>

#include "common/time_format.hpp"
#include "model/json_read.hpp"

namespace fleet::rollout {

namespace {

template <typename E, std::size_t N>
std::optional<E> parse_enum(std::string_view s, const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 6> kRunNames = {"Pending",   "Running", "Paused",
                                                       "Completed", "Failed",  "Aborted"};
constexpr std::array<std::string_view, 7> kStageNames = {"NotStarted", "WaitingForGate", "Running", "Soaking",
                                                         "Completed",  "Failed",         "Skipped"};
constexpr std::array<std::string_view, 7> kMemberNames = {"Pending", "Upgrading", "Probing",         "Succeeded",
                                                          "Failed",  "Skipped",   "WaitingForWindow"};
constexpr std::array<std::string_view, 5> kGateNames = {"Closed", "Open", "Passed", "Failed", "Skipped"};

nlohmann::json time_or_null(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

Result<std::optional<TimePoint>> read_time(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<TimePoint>{};
  if (!it->is_string()) return make_error(ErrorCode::kInvalid, std::string(key) + ": must be a timestamp", key);
  auto t = parse_timestamp(it->get<std::string>());
  if (!t) return make_error(ErrorCode::kInvalid, std::string(key) + ": not a timestamp", key);
  return std::optional<TimePoint>{*t};
}

}  // namespace

std::string_view to_string(RunPhase p) {
  return kRunNames[static_cast<std::size_t>(p)];
}
std::string_view to_string(StagePhase p) {
  return kStageNames[static_cast<std::size_t>(p)];
}
std::string_view to_string(MemberPhase p) {
  return kMemberNames[static_cast<std::size_t>(p)];
}
std::string_view to_string(GatePhase p) {
  return kGateNames[static_cast<std::size_t>(p)];
}
std::optional<RunPhase> parse_run_phase(std::string_view s) {
  return parse_enum<RunPhase>(s, kRunNames);
}
std::optional<StagePhase> parse_stage_phase(std::string_view s) {
  return parse_enum<StagePhase>(s, kStageNames);
}
std::optional<MemberPhase> parse_member_phase(std::string_view s) {
  return parse_enum<MemberPhase>(s, kMemberNames);
}
std::optional<GatePhase> parse_gate_phase(std::string_view s) {
  return parse_enum<GatePhase>(s, kGateNames);
}

GateState* RunState::gate(std::string_view name) {
  for (auto& g : gates) {
    if (g.name == name) return &g;
  }
  return nullptr;
}
const GateState* RunState::gate(std::string_view name) const {
  for (const auto& g : gates) {
    if (g.name == name) return &g;
  }
  return nullptr;
}
MemberState* RunState::member(std::string_view cluster) {
  for (auto& m : members) {
    if (m.cluster == cluster) return &m;
  }
  return nullptr;
}

RunState run_skeleton(std::string name, std::int64_t seq, RunSpec spec) {
  RunState st;
  st.name = std::move(name);
  st.seq = seq;
  st.spec = std::move(spec);
  for (const auto& stage : st.spec.strategy.stages) {
    StageState ss;
    ss.groups.resize(stage.groups.size());
    st.stages.push_back(std::move(ss));
  }
  for (const auto& ref : all_gates(st.spec.strategy)) {
    GateState g;
    g.name = ref.gate->name;
    st.gates.push_back(std::move(g));
  }
  return st;
}

RunState initial_run_state(std::string name, std::int64_t seq, RunSpec spec, const Plan& plan) {
  RunState st = run_skeleton(std::move(name), seq, std::move(spec));
  for (const auto& mp : plan.members) {
    MemberState m;
    m.cluster = mp.cluster;
    m.cluster_id = mp.cluster_id;
    m.stage = mp.stage;
    m.group = mp.group;
    m.steps = mp.steps;
    m.from_version = mp.from_version;
    m.to_version = mp.to_version;
    m.message = mp.message;
    m.window = mp.window;
    if (mp.skip != SkipReason::kNone) {
      m.phase = MemberPhase::kSkipped;
      m.skip_reason = std::string(to_string(mp.skip));
    }
    st.members.push_back(std::move(m));
  }
  return st;
}

std::string command_id(std::int64_t run_seq, std::size_t member_index, std::size_t step, int attempt) {
  return "ro." + std::to_string(run_seq) + "." + std::to_string(member_index) + "." + std::to_string(step) + "." +
         std::to_string(attempt);
}

std::string member_command_id(const RunState& state, std::size_t member_index) {
  const MemberState& m = state.members[member_index];
  std::string id = command_id(state.seq, member_index, m.step, m.attempt);
  if (m.stops > 0) id += ".w" + std::to_string(m.stops);
  if (m.swap == SwapStage::kRetire) id += ".retire";
  if (m.swap == SwapStage::kRestore) id += ".restore";
  return id;
}

std::string_view to_string(SwapStage s) {
  switch (s) {
    case SwapStage::kReplace:
      return "Replace";
    case SwapStage::kSoak:
      return "Soak";
    case SwapStage::kRetire:
      return "Retire";
    case SwapStage::kRestore:
      return "Restore";
  }
  return "";
}

std::optional<SwapStage> parse_swap_stage(std::string_view s) {
  for (SwapStage stage : {SwapStage::kReplace, SwapStage::kSoak, SwapStage::kRetire, SwapStage::kRestore}) {
    if (to_string(stage) == s) return stage;
  }
  return std::nullopt;
}

nlohmann::json run_status_to_json(const RunState& st) {
  using nlohmann::json;
  json stages = json::array();
  for (const auto& s : st.stages) {
    json groups = json::array();
    for (const auto& g : s.groups) {
      groups.push_back({{"state", to_string(g.phase)}, {"acknowledgedFailures", g.acknowledged_failures}});
    }
    stages.push_back({{"state", to_string(s.phase)},
                      {"soakUntil", time_or_null(s.soak_until)},
                      {"acknowledgedFailures", s.acknowledged_failures},
                      {"groups", std::move(groups)}});
  }
  json gates = json::array();
  for (const auto& g : st.gates) {
    gates.push_back({{"name", g.name},
                     {"state", to_string(g.phase)},
                     {"openedAt", time_or_null(g.opened_at)},
                     {"healthySince", time_or_null(g.healthy_since)},
                     {"message", g.message},
                     {"approvedBy", g.approved_by}});
  }
  return {{"state", to_string(st.phase)},
          {"message", st.message},
          {"acknowledgedFailures", st.acknowledged_failures},
          {"startedAt", time_or_null(st.started_at)},
          {"finishedAt", time_or_null(st.finished_at)},
          {"stages", std::move(stages)},
          {"gates", std::move(gates)}};
}

Status run_status_from_json(const nlohmann::json& j, RunState& st) {
  // Written by run_status_to_json only (fleetd's own rows): a mismatch is corruption, reported, never guessed at.
  auto corrupt = [](const std::string& what) {
    return make_error(ErrorCode::kInternal, "stored rollout status is malformed: " + what);
  };
  try {
    auto phase = parse_run_phase(j.at("state").get<std::string>());
    if (!phase) return corrupt("state");
    st.phase = *phase;
    st.message = j.at("message").get<std::string>();
    st.acknowledged_failures = j.at("acknowledgedFailures").get<int>();
    auto started = read_time(j, "startedAt");
    auto finished = read_time(j, "finishedAt");
    if (!started || !finished) return corrupt("times");
    st.started_at = *started;
    st.finished_at = *finished;
    const auto& stages = j.at("stages");
    if (stages.size() != st.stages.size()) return corrupt("stage count");
    for (std::size_t s = 0; s < stages.size(); ++s) {
      auto sp = parse_stage_phase(stages[s].at("state").get<std::string>());
      if (!sp) return corrupt("stage state");
      st.stages[s].phase = *sp;
      auto soak = read_time(stages[s], "soakUntil");
      if (!soak) return corrupt("soakUntil");
      st.stages[s].soak_until = *soak;
      st.stages[s].acknowledged_failures = stages[s].at("acknowledgedFailures").get<int>();
      const auto& groups = stages[s].at("groups");
      if (groups.size() != st.stages[s].groups.size()) return corrupt("group count");
      for (std::size_t g = 0; g < groups.size(); ++g) {
        auto gp = parse_stage_phase(groups[g].at("state").get<std::string>());
        if (!gp) return corrupt("group state");
        st.stages[s].groups[g].phase = *gp;
        st.stages[s].groups[g].acknowledged_failures = groups[g].at("acknowledgedFailures").get<int>();
      }
    }
    const auto& gates = j.at("gates");
    if (gates.size() != st.gates.size()) return corrupt("gate count");
    for (std::size_t i = 0; i < gates.size(); ++i) {
      auto gp = parse_gate_phase(gates[i].at("state").get<std::string>());
      if (!gp) return corrupt("gate state");
      GateState& g = st.gates[i];
      g.phase = *gp;
      auto opened = read_time(gates[i], "openedAt");
      auto healthy = read_time(gates[i], "healthySince");
      if (!opened || !healthy) return corrupt("gate times");
      g.opened_at = *opened;
      g.healthy_since = *healthy;
      g.message = gates[i].at("message").get<std::string>();
      g.approved_by = gates[i].at("approvedBy").get<std::string>();
    }
  } catch (const nlohmann::json::exception& e) {
    return corrupt(e.what());
  }
  return Ok{};
}

nlohmann::json member_to_json(const MemberState& m) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : m.steps) steps.push_back(to_json(s));
  nlohmann::json out = {{"cluster", m.cluster},
                        {"clusterId", m.cluster_id},
                        {"stage", m.stage},
                        {"group", m.group},
                        {"state", to_string(m.phase)},
                        {"steps", std::move(steps)},
                        {"step", m.step},
                        {"attempt", m.attempt},
                        {"fromVersion", m.from_version},
                        {"toVersion", m.to_version},
                        {"skipReason", m.skip_reason},
                        {"message", m.message},
                        {"startedAt", time_or_null(m.started_at)},
                        {"finishedAt", time_or_null(m.finished_at)}};
  if (m.window) out["window"] = *m.window;  // absent in rows written before maintenance windows: none
  if (m.stops > 0) out["stops"] = m.stops;  // absent: 0
  if (m.provider_closed_until) {            // absent: the provider's window said nothing
    out["providerWindow"] = {{"closedUntil", time_or_null(m.provider_closed_until)}, {"message", m.provider_window}};
  }
  if (m.swap != SwapStage::kReplace || m.soak_until) {  // absent: a step not blue-green, or at its first command
    out["blueGreen"] = {{"stage", to_string(m.swap)}, {"soakUntil", time_or_null(m.soak_until)}};
  }
  return out;
}

Result<MemberState> member_from_json(const nlohmann::json& j) {
  MemberState m;
  try {
    m.cluster = j.at("cluster").get<std::string>();
    m.cluster_id = j.at("clusterId").get<std::string>();
    m.stage = j.at("stage").get<std::size_t>();
    m.group = j.at("group").get<std::size_t>();
    auto phase = parse_member_phase(j.at("state").get<std::string>());
    if (!phase) return make_error(ErrorCode::kInternal, "stored rollout member has an unknown state");
    m.phase = *phase;
    for (const auto& s : j.at("steps")) {
      auto step = step_from_json(s);
      if (!step) return make_error(ErrorCode::kInternal, "stored rollout member step: " + step.error().message);
      m.steps.push_back(std::move(*step));
    }
    m.step = j.at("step").get<std::size_t>();
    m.attempt = j.at("attempt").get<int>();
    m.from_version = j.at("fromVersion").get<std::string>();
    m.to_version = j.at("toVersion").get<std::string>();
    m.skip_reason = j.at("skipReason").get<std::string>();
    m.message = j.at("message").get<std::string>();
    auto started = read_time(j, "startedAt");
    auto finished = read_time(j, "finishedAt");
    if (!started || !finished) return make_error(ErrorCode::kInternal, "stored rollout member has a bad time");
    m.started_at = *started;
    m.finished_at = *finished;
    if (auto w = j.find("window"); w != j.end() && !w->is_null()) m.window = w->get<std::size_t>();
    if (auto stops = j.find("stops"); stops != j.end() && !stops->is_null()) m.stops = stops->get<int>();
    if (auto pw = j.find("providerWindow"); pw != j.end() && !pw->is_null()) {
      auto until = read_time(*pw, "closedUntil");
      if (!until) return make_error(ErrorCode::kInternal, "stored rollout member has a bad providerWindow");
      m.provider_closed_until = *until;
      m.provider_window = pw->at("message").get<std::string>();
    }
    if (auto bg = j.find("blueGreen"); bg != j.end() && !bg->is_null()) {
      auto stage = parse_swap_stage(bg->at("stage").get<std::string>());
      auto soak = read_time(*bg, "soakUntil");
      if (!stage || !soak) return make_error(ErrorCode::kInternal, "stored rollout member has a bad blueGreen");
      m.swap = *stage;
      m.soak_until = *soak;
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kInternal, std::string("stored rollout member is malformed: ") + e.what());
  }
  return m;
}

}  // namespace fleet::rollout
