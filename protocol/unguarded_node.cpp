#include "protocol/unguarded_node.hpp"

#include "common/time_format.hpp"
#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::protocol {

using nlohmann::json;

json to_json(const UnguardedNode& n) {
  json j = {{"node", n.node}, {"seenAt", format_rfc3339(n.seen_at)}};
  if (n.seconds) j["seconds"] = *n.seconds;
  if (n.pods) j["pods"] = *n.pods;
  if (!n.pod_names.empty()) j["podNames"] = n.pod_names;
  return j;
}

Result<UnguardedNode> unguarded_node_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"node", "seenAt", "seconds", "pods", "podNames"}, path); !s) {
    return s.error();
  }
  UnguardedNode n;
  auto node = model::required_string(j, "node", path);
  if (!node) return node.error();
  if (auto s = model::validate_dns1123_subdomain(*node, model::member_path(path, "node")); !s) return s.error();
  n.node = *node;
  auto seen = model::required_string(j, "seenAt", path);
  if (!seen) return seen.error();
  auto at = parse_timestamp(*seen);
  if (!at) return model::invalid_field(model::member_path(path, "seenAt"), "must be an RFC 3339 time");
  n.seen_at = *at;
  auto seconds = model::optional_number(j, "seconds", path, 0, 10.0 * 365 * 86400);
  if (!seconds) return seconds.error();
  n.seconds = *seconds;
  auto pods = model::optional_integer(j, "pods", path, 0, 1000000);
  if (!pods) return pods.error();
  if (*pods) n.pods = static_cast<int>(**pods);
  auto names = model::optional_array(j, "podNames", path);
  if (!names) return names.error();
  if (*names) {
    const std::string f = model::member_path(path, "podNames");
    if ((*names)->size() > kMaxUnguardedPodNames) {
      return model::invalid_field(f, "at most " + std::to_string(kMaxUnguardedPodNames) + " names");
    }
    for (std::size_t i = 0; i < (*names)->size(); ++i) {
      const json& v = (**names)[i];
      if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 317) {
        return model::invalid_field(model::index_path(f, i), "must be \"namespace/name\" of at most 317 bytes");
      }
      n.pod_names.push_back(v.get<std::string>());
    }
  }
  return n;
}

}  // namespace fleet::protocol
