#include "placement/disruption_budget.hpp"

#include <algorithm>
#include <charconv>

#include "model/json_read.hpp"
#include "model/names.hpp"
#include "placement/workload.hpp"

namespace fleet::placement {

namespace {

constexpr std::string_view kMember = "disruptionBudget";

Result<DisruptionBudget> budget_value(const nlohmann::json& v, DisruptionBudget::Kind kind, const std::string& field) {
  DisruptionBudget out;
  out.kind = kind;
  if (v.is_number_integer()) {
    const auto n = v.get<std::int64_t>();
    if (n < 0 || n > kMaxReplicas) {
      return model::invalid_field(field, "must be 0.." + std::to_string(kMaxReplicas) + " replicas or a percent");
    }
    out.value = static_cast<int>(n);
    return out;
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    int n = -1;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end + 1 == s.data() + s.size() && *end == '%' && n >= 0 && n <= 100) {
      out.value = n;
      out.percent = true;
      return out;
    }
  }
  return model::invalid_field(field, "must be a number of replicas or a percent such as \"25%\"");
}

}  // namespace

int min_available(const DisruptionBudget& budget, int replicas) {
  const int r = std::max(replicas, 0);
  if (budget.kind == DisruptionBudget::Kind::kMinAvailable) {
    const int wanted = budget.percent ? (r * budget.value + 99) / 100 : budget.value;  // a percent rounds up
    return std::clamp(wanted, 0, r);
  }
  const int unavailable = budget.percent ? r * budget.value / 100 : budget.value;  // a percent rounds down
  return std::clamp(r - unavailable, 0, r);
}

std::string describe(const DisruptionBudget& budget) {
  const std::string kind = budget.kind == DisruptionBudget::Kind::kMaxUnavailable ? "maxUnavailable" : "minAvailable";
  return kind + " " + std::to_string(budget.value) + (budget.percent ? "%" : "");
}

std::optional<std::string> drain_hold(const std::vector<BudgetedWorkload>& workloads, std::string_view cluster,
                                      std::string_view pool) {
  for (const BudgetedWorkload& w : workloads) {
    int on_pool = 0;
    int available = 0;
    for (const BudgetedBinding& b : w.bindings) {
      const bool here = b.cluster == cluster;
      const bool runs = b.state == "Running" || b.state == "Superseded";
      for (const PoolReplicas& p : b.pools) {
        const bool drained = here && p.pool == pool;
        if (drained && b.state != "Deleting" && b.state != "Failed") on_pool += p.replicas;
        if (runs && !drained) available += p.replicas;
      }
    }
    const int need = min_available(w.budget, w.replicas);
    if (on_pool == 0 || available >= need) continue;
    return "workload " + w.name + " has " + std::to_string(on_pool) + (on_pool == 1 ? " replica" : " replicas") +
           " on pool " + std::string(pool) + " of " + std::string(cluster) + "; draining it would leave " +
           std::to_string(available) + " of " + std::to_string(w.replicas) +
           " available, below its disruption budget (" + describe(w.budget) + ")";
  }
  return std::nullopt;
}

Result<std::optional<DisruptionBudget>> disruption_budget_from_json(const nlohmann::json& workload) {
  auto object = model::optional_object(workload, kMember, "");
  if (!object) return object.error();
  if (!*object) return std::optional<DisruptionBudget>{};
  const nlohmann::json& j = **object;
  if (auto s = model::reject_unknown_fields(j, {"maxUnavailable", "minAvailable"}, kMember); !s) return s.error();
  const bool max = j.contains("maxUnavailable");
  if (max == j.contains("minAvailable")) {
    return model::invalid_field(kMember, "give exactly one of maxUnavailable and minAvailable");
  }
  const char* key = max ? "maxUnavailable" : "minAvailable";
  auto budget =
      budget_value(j.at(key), max ? DisruptionBudget::Kind::kMaxUnavailable : DisruptionBudget::Kind::kMinAvailable,
                   std::string(kMember) + "." + key);
  if (!budget) return budget.error();
  return std::optional<DisruptionBudget>{*budget};
}

nlohmann::json to_json(const DisruptionBudget& budget) {
  const char* key = budget.kind == DisruptionBudget::Kind::kMaxUnavailable ? "maxUnavailable" : "minAvailable";
  if (budget.percent) return {{key, std::to_string(budget.value) + "%"}};
  return {{key, budget.value}};
}

}  // namespace fleet::placement
