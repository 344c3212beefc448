#include "agents/kube/workload_follower.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "agents/kube/json_fields.hpp"
#include "agents/kube/workload_readiness.hpp"
#include "common/utf8.hpp"
#include "model/names.hpp"
#include "net/url_encode.hpp"

namespace fleet::agent::kube {

namespace {

using nlohmann::json;

std::optional<std::int64_t> positive_integer(const std::string& text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

std::string display_of(const json& object) {
  const json& metadata = member(object, "metadata");
  const std::string name = str(metadata, "name");
  const std::string ns = str(metadata, "namespace");
  return str(object, "kind") + " " + (ns.empty() ? name : ns + "/" + name);
}

struct Gathered {
  std::int64_t generation = 0;
  std::vector<std::pair<std::string, ObjectReadiness>> objects;
};

}  // namespace

WorkloadStatuses workload_statuses(const std::vector<json>& objects) {
  std::map<std::string, Gathered> by_workload;
  for (const json& object : objects) {
    if (!object.is_object()) continue;
    const json& labels = member(member(object, "metadata"), "labels");
    const std::string name = str(labels, kFleetWorkloadLabel);
    const auto generation = positive_integer(str(labels, kFleetGenerationLabel));
    if (!generation || !model::dns1123_subdomain_problem(name).empty()) continue;
    Gathered& g = by_workload[name];
    g.generation = g.generation == 0 ? *generation : std::min(g.generation, *generation);
    g.objects.emplace_back(display_of(object), object_readiness(object));
  }
  WorkloadStatuses out;
  for (auto& [name, g] : by_workload) {
    const ObjectReadiness r = workload_readiness(g.objects);
    out[name] = protocol::WorkloadStatus{name, g.generation, r.state,
                                         truncate_utf8(r.message, protocol::kMaxWorkloadStatusMessageBytes)};
  }
  return out;
}

std::vector<protocol::WorkloadStatus> status_changes(const WorkloadStatuses& before, const WorkloadStatuses& now) {
  std::vector<protocol::WorkloadStatus> out;
  for (const auto& [name, status] : now) {
    const auto it = before.find(name);
    if (it == before.end() || it->second != status) out.push_back(status);
  }
  for (const auto& [name, status] : before) {
    if (now.contains(name)) continue;
    out.push_back({name, status.generation, protocol::WorkloadReadiness::kProgressing,
                   "no objects of the workload found on the cluster"});
  }
  return out;
}

std::vector<protocol::WorkloadStatus> WorkloadFollower::refresh(KubeApi& api,
                                                                std::chrono::steady_clock::time_point now) {
  const bool touched = touched_.exchange(false);
  if (!touched && now - last_read_ < options_.interval) return {};
  last_read_ = now;
  std::vector<json> objects;
  for (const FollowedKind& kind : followed_kinds()) {
    const std::string collection(kind.collection);
    if (int& skips = absent_[collection]; skips > 0) {
      --skips;
      continue;
    }
    auto listed = api.list(http::with_query(collection, {{"labelSelector", kFleetWorkloadLabel}}), options_.page_size);
    if (!listed) {
      if (listed.error().code == ErrorCode::kNotFound) {
        absent_[collection] = options_.absent_kind_skips;
        continue;
      }
      if (touched) touched_.store(true);
      return {};
    }
    for (json& item : (*listed)["items"]) {
      // A list's items carry no kind; the collection says it.
      item["kind"] = std::string(kind.kind);
      objects.push_back(std::move(item));
    }
  }
  WorkloadStatuses current = workload_statuses(objects);
  std::vector<protocol::WorkloadStatus> changes = status_changes(reported_, current);
  reported_ = std::move(current);
  return changes;
}

}  // namespace fleet::agent::kube
