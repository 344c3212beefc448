#include "placement/decision_json.hpp"

#include <array>

#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::placement {

namespace {

constexpr std::array kStates = {DecisionState::kPlaced, DecisionState::kPartiallyPlaced, DecisionState::kUnplaceable};
constexpr std::array kCodes = {RejectionCode::kClusterState,     RejectionCode::kNotInClusterList,
                               RejectionCode::kNoSuchCluster,    RejectionCode::kTaint,
                               RejectionCode::kAffinity,         RejectionCode::kNoGpus,
                               RejectionCode::kNodesUnavailable, RejectionCode::kNoAdmittedGpus,
                               RejectionCode::kGpuModel,         RejectionCode::kGpuMemory,
                               RejectionCode::kDriverVersion,    RejectionCode::kCudaVersion,
                               RejectionCode::kNodeTaint,        RejectionCode::kInsufficientCapacity,
                               RejectionCode::kSpread,           RejectionCode::kNotSelected};

template <typename Enum, std::size_t N>
std::optional<Enum> parse_enum(const std::array<Enum, N>& values, std::string_view text) {
  for (const Enum value : values) {
    if (to_string(value) == text) return value;
  }
  return std::nullopt;
}

Result<int> count_member(const nlohmann::json& j, std::string_view key, std::string_view path) {
  auto value = model::optional_integer(j, key, path, 0, 100'000'000);
  if (!value) return value.error();
  if (!*value) return model::missing_field(std::string(path) + "." + std::string(key));
  return static_cast<int>(**value);
}

Result<ClusterBinding> binding_from_json(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  ClusterBinding binding;
  auto cluster = model::required_string(j, "cluster", path);
  if (!cluster) return cluster.error();
  binding.cluster = std::move(*cluster);
  auto replicas = count_member(j, "replicas", path);
  if (!replicas) return replicas.error();
  binding.replicas = *replicas;
  if (j.contains("nodes")) {
    auto nodes = node_shares_from_json(j.at("nodes"));
    if (!nodes) return nodes.error();
    binding.nodes = std::move(*nodes);
  }
  return binding;
}

}  // namespace

nlohmann::json to_json(const std::vector<NodeShare>& nodes) {
  nlohmann::json out = nlohmann::json::array();
  for (const NodeShare& share : nodes) out.push_back({{"node", share.node}, {"replicas", share.replicas}});
  return out;
}

nlohmann::json to_json(const ClusterBinding& binding) {
  return {{"cluster", binding.cluster}, {"replicas", binding.replicas}, {"nodes", to_json(binding.nodes)}};
}

nlohmann::json to_json(const Decision& decision) {
  nlohmann::json bindings = nlohmann::json::array();
  for (const ClusterBinding& binding : decision.bindings) bindings.push_back(to_json(binding));
  nlohmann::json rejected = nlohmann::json::array();
  for (const Rejection& r : decision.rejected) {
    rejected.push_back({{"cluster", r.cluster}, {"code", to_string(r.code)}, {"reason", r.reason}});
  }
  return {{"state", to_string(decision.state)},
          {"replicasWanted", decision.replicas_wanted},
          {"replicasBound", decision.replicas_bound},
          {"bindings", std::move(bindings)},
          {"rejected", std::move(rejected)}};
}

Result<std::vector<NodeShare>> node_shares_from_json(const nlohmann::json& j) {
  if (!j.is_array()) return model::wrong_type("nodes", "an array", j);
  std::vector<NodeShare> shares;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string path = "nodes[" + std::to_string(i) + "]";
    if (!j[i].is_object()) return model::wrong_type(path, "an object", j[i]);
    auto node = model::required_string(j[i], "node", path);
    if (!node) return node.error();
    auto replicas = count_member(j[i], "replicas", path);
    if (!replicas) return replicas.error();
    shares.push_back({std::move(*node), *replicas});
  }
  return shares;
}

Result<Decision> decision_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return model::wrong_type("decision", "an object", j);
  Decision decision;
  auto state = model::required_string(j, "state", "");
  if (!state) return state.error();
  const std::optional<DecisionState> parsed = parse_enum(kStates, *state);
  if (!parsed) return model::invalid_field("state", "unknown decision state \"" + *state + "\"");
  decision.state = *parsed;
  auto wanted = count_member(j, "replicasWanted", "");
  if (!wanted) return wanted.error();
  decision.replicas_wanted = *wanted;
  auto bound = count_member(j, "replicasBound", "");
  if (!bound) return bound.error();
  decision.replicas_bound = *bound;
  for (const char* key : {"bindings", "rejected"}) {
    if (!j.contains(key) || !j.at(key).is_array())
      return model::wrong_type(key, "an array", j.value(key, nlohmann::json()));
  }
  const nlohmann::json& bindings = j.at("bindings");
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    auto binding = binding_from_json(bindings[i], "bindings[" + std::to_string(i) + "]");
    if (!binding) return binding.error();
    decision.bindings.push_back(std::move(*binding));
  }
  const nlohmann::json& rejected = j.at("rejected");
  for (std::size_t i = 0; i < rejected.size(); ++i) {
    const std::string path = "rejected[" + std::to_string(i) + "]";
    if (!rejected[i].is_object()) return model::wrong_type(path, "an object", rejected[i]);
    auto cluster = model::required_string(rejected[i], "cluster", path);
    auto code = model::required_string(rejected[i], "code", path);
    auto reason = model::required_string(rejected[i], "reason", path);
    if (!cluster) return cluster.error();
    if (!code) return code.error();
    if (!reason) return reason.error();
    const std::optional<RejectionCode> parsed_code = parse_enum(kCodes, *code);
    if (!parsed_code) return model::invalid_field(path + ".code", "unknown rejection code \"" + *code + "\"");
    decision.rejected.push_back({std::move(*cluster), *parsed_code, std::move(*reason)});
  }
  return decision;
}

}  // namespace fleet::placement
