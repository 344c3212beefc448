// Disruption budgets (issue #15 item 1): the two forms and their rounding, the JSON member, and the drain check a
// rollout asks before it drains a node pool.
#include <catch2/catch.hpp>

#include "placement/disruption_budget.hpp"
#include "placement/workload_json.hpp"

namespace fleet::placement {

using nlohmann::json;

namespace {

DisruptionBudget max_unavailable(int v, bool percent = false) {
  return {DisruptionBudget::Kind::kMaxUnavailable, v, percent};
}
DisruptionBudget min_available_of(int v, bool percent = false) {
  return {DisruptionBudget::Kind::kMinAvailable, v, percent};
}

}  // namespace

TEST_CASE("disruption budget: min available from each form with percents rounded the safe way", "[placement]") {
  CHECK(min_available(max_unavailable(1), 3) == 2);
  CHECK(min_available(max_unavailable(0), 3) == 3);
  CHECK(min_available(max_unavailable(5), 3) == 0);
  CHECK(min_available(max_unavailable(25, true), 10) == 8);  // 2.5 unavailable rounds down to 2
  CHECK(min_available(min_available_of(2), 3) == 2);
  CHECK(min_available(min_available_of(9), 3) == 3);
  CHECK(min_available(min_available_of(50, true), 3) == 2);  // 1.5 available rounds up to 2
  CHECK(min_available(min_available_of(100, true), 4) == 4);
  CHECK(describe(max_unavailable(25, true)) == "maxUnavailable 25%");
  CHECK(describe(min_available_of(2)) == "minAvailable 2");
}

TEST_CASE("disruption budget: the workload member round-trips and bad forms are 422 naming it", "[placement]") {
  json w = json::parse(R"({"name": "llm", "replicas": 3, "manifests": [{"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "x"}}], "disruptionBudget": {"maxUnavailable": "34%"}})");
  auto doc = workload_from_json(w);
  REQUIRE(doc.ok());
  REQUIRE(doc->workload.disruption_budget.has_value());
  CHECK(*doc->workload.disruption_budget == max_unavailable(34, true));
  CHECK(to_json(doc->workload)["disruptionBudget"] == json{{"maxUnavailable", "34%"}});
  CHECK(workload_spec_from_json(to_json(doc->workload))->disruption_budget == doc->workload.disruption_budget);
  w.erase("disruptionBudget");
  CHECK_FALSE(to_json(workload_from_json(w)->workload).contains("disruptionBudget"));

  const std::vector<std::pair<json, std::string>> bad = {
      {json{{"maxUnavailable", 1}, {"minAvailable", 1}}, "disruptionBudget"},
      {json::object(), "disruptionBudget"},
      {json{{"maxUnavailable", -1}}, "disruptionBudget.maxUnavailable"},
      {json{{"minAvailable", "101%"}}, "disruptionBudget.minAvailable"},
      {json{{"minAvailable", "1.5%"}}, "disruptionBudget.minAvailable"},
      {json{{"minAvailable", true}}, "disruptionBudget.minAvailable"},
      {json{{"maxSurge", 1}}, "disruptionBudget.maxSurge"},
      {json::array(), "disruptionBudget"}};
  for (const auto& [budget, field] : bad) {
    w["disruptionBudget"] = budget;
    auto r = workload_from_json(w);
    INFO(budget.dump());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().field == field);
  }
}

TEST_CASE("disruption budget: a drain is held only while it would leave too few replicas available", "[placement]") {
  BudgetedWorkload llm{"llm",
                       3,
                       min_available_of(2),
                       {{"aks-1", "Running", {{"gpu", 2}, {"system", 0}}}, {"aks-2", "Running", {{"gpu", 1}}}}};
  // Draining aks-1's gpu pool leaves 1 of 3: held, with the numbers.
  CHECK(drain_hold({llm}, "aks-1", "gpu") ==
        "workload llm has 2 replicas on pool gpu of aks-1; draining it would leave 1 of 3 available, below its "
        "disruption budget (minAvailable 2)");
  CHECK_FALSE(drain_hold({llm}, "aks-1", "system"));  // nothing of llm there
  CHECK_FALSE(drain_hold({llm}, "aks-2", "gpu"));     // leaves 2 of 3
  CHECK_FALSE(drain_hold({llm}, "aks-3", "gpu"));

  // The placement moved aks-1's replicas to aks-3: superseded until they run, then gone.
  llm.bindings[0].state = "Superseded";
  llm.bindings.push_back({"aks-3", "Applied", {{"gpu", 2}}});
  CHECK(drain_hold({llm}, "aks-1", "gpu").has_value());  // aks-3 does not run yet
  llm.bindings[2].state = "Running";
  CHECK_FALSE(drain_hold({llm}, "aks-1", "gpu"));  // 3 available elsewhere
  llm.bindings[0].state = "Deleting";
  CHECK_FALSE(drain_hold({llm}, "aks-1", "gpu"));

  // Replicas already down elsewhere (an unreachable cluster's binding is not Running) leave less room.
  BudgetedWorkload web{
      "web", 4, max_unavailable(1), {{"a", "Running", {{"pool", 2}}}, {"b", "Applied", {{"pool", 2}}}}};
  CHECK(drain_hold({web}, "a", "pool").has_value());
  web.bindings[1].state = "Running";
  CHECK(drain_hold({web}, "a", "pool").has_value());  // 2 down is more than 1
  web.budget = max_unavailable(50, true);
  CHECK_FALSE(drain_hold({web}, "a", "pool"));
  // The first workload that holds is named.
  CHECK_THAT(*drain_hold({web, llm, BudgetedWorkload{"zeta", 1, max_unavailable(0), {{"a", "Running", {{"pool", 1}}}}}},
                         "a", "pool"),
             Catch::StartsWith("workload zeta has 1 replica on pool pool of a"));
}

}  // namespace fleet::placement
