#include "agents/kube/admission_commands.hpp"

namespace fleet::agent::kube {

Result<std::vector<std::string>> admission_command_nodes(const NodeAdmissionRunner& runner, bool run_probe,
                                                         const std::optional<std::vector<std::string>>& nodes,
                                                         const std::string& node) {
  std::vector<std::string> out;
  if (!run_probe) {
    out.push_back(node);
  } else if (nodes) {
    out = *nodes;
  } else {
    for (const auto& [name, state] : runner.admissions()) {
      if (auto v = runner.view(name); v && v->gpus > 0) out.push_back(name);
    }
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::string field = run_probe ? "payload.nodes[" + std::to_string(i) + "]" : "payload.node";
    auto v = runner.view(out[i]);
    if (!v) return make_error(ErrorCode::kNotFound, field + ": no node \"" + out[i] + "\"", field, "not-found");
    if (v->gpus == 0) {
      return make_error(
          ErrorCode::kInvalid,
          field + ": node " + out[i] + (run_probe ? " has no GPUs to probe" : " has no GPUs: it is admitted"), field,
          "invalid-field");
    }
  }
  return out;
}

Result<std::map<std::string, int, std::less<>>> request_probes(NodeAdmissionRunner& runner,
                                                               const std::vector<std::string>& nodes) {
  std::map<std::string, int, std::less<>> before;
  for (const std::string& n : nodes) {
    const auto v = runner.view(n);
    if (!v) return make_error(ErrorCode::kNotFound, "node \"" + n + "\" does not exist", "payload.nodes");
    // A probe already running answers too; otherwise the next one that starts (within the machine's cap).
    before[n] = v->probes - (v->state == model::Admission::kProbing ? 1 : 0);
    if (auto s = runner.request_probe(n); !s) return s.error();
  }
  return before;
}

bool settle_run_probe(const NodeAdmissionRunner& runner, const std::map<std::string, int, std::less<>>& probes_before,
                      protocol::CommandStatus& st) {
  for (const auto& [node, before] : probes_before) {
    if (st.details.count(node)) continue;
    const auto v = runner.view(node);
    std::string outcome;
    if (!v) {
      outcome = "deleted";
    } else if (v->probes > before &&
               (v->state == model::Admission::kAdmitted || v->state == model::Admission::kQuarantined)) {
      outcome = v->state == model::Admission::kAdmitted ? "admitted" : "quarantined";
    } else {
      continue;
    }
    st.details[node] = outcome;
    ++st.nodes_done;
    if (outcome != "admitted") ++st.nodes_failed;
  }
  if (st.nodes_done < st.nodes_total) return false;
  const int passed = st.nodes_total - st.nodes_failed;
  st.state = st.nodes_failed > 0 ? protocol::CommandState::kFailed : protocol::CommandState::kSucceeded;
  st.message = std::to_string(passed) + " of " + std::to_string(st.nodes_total) + " nodes passed the GPU probe";
  if (st.nodes_failed > 0) st.message += "; " + std::to_string(st.nodes_failed) + " quarantined or deleted";
  return true;
}

}  // namespace fleet::agent::kube
