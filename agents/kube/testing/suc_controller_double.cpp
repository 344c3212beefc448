#include "agents/kube/testing/suc_controller_double.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace fleet::agent::kube::testing {
namespace {

using nlohmann::json;

std::string label_of(const json& node, const std::string& key) {
  const json labels = node["metadata"].value("labels", json::object());
  const auto it = labels.find(key);
  return it != labels.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool has_label(const json& node, const std::string& key) {
  return node["metadata"].value("labels", json::object()).contains(key);
}

// Whether a Plan's nodeSelector (a metav1.LabelSelector) selects the node.
bool selects(const json& selector, const json& node) {
  if (!selector.is_object()) return false;
  const json labels = selector.value("matchLabels", json::object());  // kept: the loops read into them
  const json expressions = selector.value("matchExpressions", json::array());
  for (const auto& [key, value] : labels.items()) {
    if (!value.is_string() || label_of(node, key) != value.get<std::string>()) return false;
  }
  for (const json& e : expressions) {
    const std::string key = e.value("key", "");
    const std::string op = e.value("operator", "");
    const json values = e.value("values", json::array());
    const bool listed =
        has_label(node, key) && std::find(values.begin(), values.end(), label_of(node, key)) != values.end();
    if ((op == "In" && !listed) || (op == "NotIn" && listed) || (op == "Exists" && !has_label(node, key)) ||
        (op == "DoesNotExist" && has_label(node, key))) {
      return false;
    }
  }
  return true;
}

std::string munged(std::string version) {
  std::replace(version.begin(), version.end(), '+', '-');
  return version;
}

}  // namespace

SucControllerDouble::SucControllerDouble(KubeApiDouble& api, std::vector<std::string> plans, bool hold)
    : api_(api), plans_(std::move(plans)), hold_(hold), thread_([this] { loop(); }) {}

SucControllerDouble::~SucControllerDouble() {
  stop_ = true;
  thread_.join();
}

void SucControllerDouble::loop() {
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    for (const std::string& path : plans_) reconcile(path);
  }
}

void SucControllerDouble::reconcile(const std::string& path) {
  auto plan = api_.object(path);
  if (!plan || !plan->contains("spec")) return;
  const std::string version = (*plan)["spec"].value("version", "");
  const json selector = (*plan)["spec"].value("nodeSelector", json::object());
  std::vector<std::string> pending;  // selected, kubelet not at the version; by name
  for (const std::string& name : api_.node_names()) {
    const auto node = api_.node(name);
    if (!node || !selects(selector, *node)) continue;
    if (node->value("/status/nodeInfo/kubeletVersion"_json_pointer, std::string()) != version) pending.push_back(name);
  }
  const json before = plan->value("status", json::object());
  // The node in hand (applying at the last round) is upgraded now, unless held.
  const json applying = before.value("applying", json::array());
  if (!hold_ && !pending.empty() && applying.size() == 1 && applying[0] == pending.front()) {
    api_.update_node(pending.front(), [&](json& n) { n["status"]["nodeInfo"]["kubeletVersion"] = version; });
    pending.erase(pending.begin());
    ++upgraded_;
  }
  const bool complete = pending.empty();
  json status = {
      {"latestVersion", munged(version)},
      {"latestHash", "5c1e2f"},
      {"applying", complete ? json::array() : json::array({pending.front()})},
      {"conditions",
       json::array(
           {{{"type", "Complete"}, {"status", complete ? "True" : "False"}, {"reason", complete ? "" : "Applying"}}})}};
  if (before == status) return;
  (*plan)["status"] = std::move(status);
  api_.put_object(path, *plan);
}

}  // namespace fleet::agent::kube::testing
