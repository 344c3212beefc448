// Node-image rollback (issue #13 item 5): the pins read from an earlier run's steps, and the plan of the run that
// puts each pool back, with the reasons it may not.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "rollout/plan.hpp"
#include "rollout/rollback.hpp"
#include "rollout/run_state.hpp"
#include "rollout/tests/rollout_fixtures.hpp"

namespace fleet::rollout {
namespace {

using namespace fleet::rollout::testing;

RunSpec image_spec(NodeImageSelection selection, const std::string& rollback_of = "") {
  RunSpec spec = full_spec("", stages_of({"wave1"}), TargetType::kNodeImageOnly);
  spec.target.node_image_selection = selection;
  spec.target.rollback_of = rollback_of;
  if (!rollback_of.empty()) spec.name = "undo";
  return spec;
}

Plan rollback_plan(const RunSpec& spec, std::vector<ClusterFacts> clusters, const VersionCatalog& catalog,
                   std::map<std::string, RollbackPin> pins) {
  PlanInput in;
  in.spec = &spec;
  in.clusters = std::move(clusters);
  in.catalog = &catalog;
  in.now = test_now();
  in.previous_images = std::move(pins);
  auto plan = make_plan(in);
  if (!plan) FAIL("make_plan failed: " << plan.error().message);
  return std::move(plan).value();
}

ClusterFacts on_image(const std::string& name, const std::string& image, const std::string& region = "eastus") {
  ClusterFacts c = cluster(name, "wave1", "1.30.5", region);
  c.pools[0].node_image_version = image;
  return c;
}

}  // namespace

TEST_CASE("rollback: an earlier run's image changes are pinned from the steps that ran", "[rollout][rollback]") {
  const VersionCatalog catalog = small_catalog();
  // a and b are moved to the newest image of eastus (January's), c's to December's in westus.
  const RunSpec spec = image_spec(NodeImageSelection::kLatest);
  const Plan plan = plan_of(spec,
                            {on_image("a", kImageOld), on_image("b", kImageOct), on_image("c", kImageOld, "westus"),
                             on_image("d", kImageOld)},
                            catalog);
  const MemberPlan& a = member_of(plan, "a");
  REQUIRE(a.steps.size() == 1);
  CHECK(a.steps[0].node_image == kImageJan);
  CHECK(a.steps[0].from_node_image == kImageOld);  // recorded when planned, and stored with the step
  auto back = step_from_json(to_json(a.steps[0]));
  REQUIRE(back);
  CHECK(*back == a.steps[0]);
  CHECK(to_json(a.steps[0])["fromNodeImage"] == kImageOld);

  RunState st = initial_run_state("upgrade", 7, spec, plan);
  auto member = [&](const std::string& name) -> MemberState& { return *st.member(name); };
  member("a").phase = MemberPhase::kSucceeded;  // its step ran
  member("a").step = 1;
  member("b").phase = MemberPhase::kFailed;   // its step failed partway: some nodes may run January's image
  member("c").phase = MemberPhase::kSkipped;  // never started
  member("d").phase = MemberPhase::kPending;
  const std::map<std::string, RollbackPin> pins = rollback_pins(st);
  CHECK(pins ==
        std::map<std::string, RollbackPin>{{"a/system", {kImageOld, kImageJan}}, {"b/system", {kImageOct, kImageJan}}});

  // A pool stepped twice goes back to the image from before the run, and was left on the second step's.
  RunState twice = st;
  Step again = twice.members[0].steps[0];
  again.from_node_image = kImageJan;
  again.node_image = kImageDec;
  twice.members[0].steps.push_back(again);
  twice.members[0].step = 2;
  CHECK(rollback_pins(twice).at("a/system") == RollbackPin{kImageOld, kImageDec});
}

TEST_CASE("rollback: each pool goes back to its image from before the run, Kubernetes versions stay",
          "[rollout][rollback]") {
  const VersionCatalog catalog = small_catalog();
  const RunSpec undo = image_spec(NodeImageSelection::kPrevious, "upgrade");
  ClusterFacts a = on_image("a", kImageJan);
  a.pools.push_back(pool("user", "1.30.5", 2, kImageJan));  // not changed by the earlier run: left alone
  const std::map<std::string, RollbackPin> pins = {
      {"a/system", {kImageOld, kImageJan}}, {"b/system", {kImageOct, kImageJan}}, {"d/system", {kImageOld, kImageJan}}};
  const Plan plan = rollback_plan(
      undo, {a, on_image("b", kImageJan), on_image("c", kImageJan), on_image("d", kImageDec)}, catalog, pins);

  const MemberPlan& ma = member_of(plan, "a");
  REQUIRE(ma.steps.size() == 1);  // an older image than the pool runs: a rollback steps back, an upgrade never does
  CHECK(ma.steps[0].pool == "system");
  CHECK(ma.steps[0].node_image == kImageOld);
  CHECK(ma.steps[0].from_node_image == kImageJan);
  CHECK_FALSE(ma.steps[0].kubernetes_version.has_value());
  CHECK(ma.to_version == ma.from_version);
  CHECK(member_of(plan, "b").steps.at(0).node_image == kImageOct);
  const MemberPlan& mc = member_of(plan, "c");
  CHECK(mc.skip == SkipReason::kAlreadyAtTarget);
  CHECK_THAT(mc.message, Catch::Contains("nothing to roll back"));
  // d's pool was moved on again after the earlier run: rolling back past that change is not this run's call.
  CHECK(member_of(plan, "d").skip == SkipReason::kChangedSince);
  CHECK_THAT(member_of(plan, "d").message, Catch::Contains("runs " + std::string(kImageDec) + ", not the " + kImageJan +
                                                           " that run upgrade put there"));
  bool said = false;
  for (const auto& w : plan.warnings) said |= w.find("a minor version is never downgraded") != std::string::npos;
  CHECK(said);

  // A pool already back on its old image has nothing left to roll back.
  const Plan done = rollback_plan(undo, {on_image("a", kImageOld)}, catalog, pins);
  CHECK(member_of(done, "a").skip == SkipReason::kAlreadyAtTarget);
}

TEST_CASE("rollback: a pool whose earlier image may not be gone back to is skipped, saying why",
          "[rollout][rollback]") {
  VersionCatalog catalog = small_catalog();
  const std::string gone = "AKSUbuntu-2204gen2containerd-202508.01.0";  // never in the catalog
  for (auto& e : catalog.entries) {
    if (e.version == kImageOct) e.retired = true;
    if (e.version == kImageOld) e.gpu_driver = drivers("550.0.0");
  }
  ClusterFacts gpu = on_image("gpu", kImageJan);
  gpu.pools[0] = gpu_pool("system", "1.30.5", "535.104.05");
  gpu.pools[0].node_image_version = kImageJan;
  const std::map<std::string, RollbackPin> pins = {{"retired/system", {kImageOct, kImageJan}},
                                                   {"unknown/system", {gone, kImageJan}},
                                                   {"gpu/system", {kImageOld, kImageJan}},
                                                   {"sku/system", {kImageAzl, kImageJan}}};
  const RunSpec undo = image_spec(NodeImageSelection::kPrevious, "upgrade");
  const Plan plan = rollback_plan(
      undo, {on_image("retired", kImageJan), on_image("unknown", kImageJan), gpu, on_image("sku", kImageJan)}, catalog,
      pins);
  CHECK(member_of(plan, "retired").skip == SkipReason::kTargetUnsupported);
  CHECK_THAT(member_of(plan, "retired").message, Catch::Contains("is retired: no rollback to it"));
  CHECK(member_of(plan, "unknown").skip == SkipReason::kNoNodeImage);
  CHECK_THAT(member_of(plan, "unknown").message, Catch::Contains(gone + " (pool system's before upgrade)"));
  CHECK(member_of(plan, "gpu").skip == SkipReason::kDriverIncompatible);
  CHECK_THAT(member_of(plan, "gpu").message, Catch::Contains("535.104.05"));
  CHECK(member_of(plan, "sku").skip == SkipReason::kNoNodeImage);
  CHECK_THAT(member_of(plan, "sku").message, Catch::Contains("another OS SKU"));
}

}  // namespace fleet::rollout
