// The planner (issue #12 item 3): version paths one minor at a time, kubelet skew, every skip reason, node image
// selection, membership and ordering, concurrency rounding, batches and estimates, determinism.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "model/label_selector.hpp"
#include "rollout/membership.hpp"
#include "rollout/plan.hpp"
#include "rollout/tests/rollout_fixtures.hpp"

namespace fleet::rollout {
namespace {

using namespace fleet::rollout::testing;
using model::KubernetesVersion;
using model::parse_kubernetes_version;

KubernetesVersion v(const char* text) {
  return *parse_kubernetes_version(text);
}

std::string kv(const Step& s) {
  return s.kubernetes_version ? model::to_string(*s.kubernetes_version) : "";
}

// Replays a member's steps over its cluster and checks the version rules after every one: the control plane moves
// one minor at a time, no pool is newer than the control plane or more than kMaxKubeletSkew minors behind it.
void check_path(const ClusterFacts& c, const std::vector<Step>& steps) {
  KubernetesVersion cp = v(c.kubernetes_version.c_str());
  std::map<std::string, KubernetesVersion> pools;
  for (const auto& p : c.pools) pools[p.name] = v(p.kubernetes_version.c_str());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    INFO("after step " << i << ": " << describe(steps[i]));
    const Step& s = steps[i];
    if (s.kind == StepKind::kControlPlane) {
      REQUIRE(s.kubernetes_version);
      CHECK(s.kubernetes_version->major == cp.major);
      CHECK(s.kubernetes_version->minor - cp.minor <= 1);
      CHECK(cp < *s.kubernetes_version);
      cp = *s.kubernetes_version;
    } else if (s.kubernetes_version) {
      REQUIRE(pools.count(s.pool) == 1);
      CHECK(!(*s.kubernetes_version < pools[s.pool]));
      pools[s.pool] = *s.kubernetes_version;
    }
    for (const auto& [name, pv] : pools) {
      INFO("pool " << name << " at " << model::to_string(pv) << ", control plane " << model::to_string(cp));
      CHECK(!(cp < pv));
      CHECK(cp.minor - pv.minor <= kMaxKubeletSkew);
    }
  }
}

TEST_CASE("plan: a k3s cluster's versions carry its build suffix and plan as their release", "[rollout][plan]") {
  const auto catalog = small_catalog();
  const auto spec = full_spec("1.32.7", stages_of({"wave1"}), TargetType::kControlPlaneOnly);
  ClusterFacts c = cluster("k3s-1");
  c.kubernetes_version = "1.31.11+k3s1";  // as k3s's API server and kubelets report it
  c.pools = {pool("workers", "1.31.11+k3s1", 3)};
  const Plan plan = plan_of(spec, {c}, catalog);
  REQUIRE(plan.members.size() == 1);
  const MemberPlan& m = plan.members[0];
  CHECK(m.skip == SkipReason::kNone);
  CHECK(m.from_version == "1.31.11+k3s1");
  REQUIRE(m.steps.size() == 1);
  CHECK(m.steps[0].kind == StepKind::kControlPlane);
  CHECK(kv(m.steps[0]) == "1.32.7");
  // At the target's release already, whatever its build.
  c.kubernetes_version = "1.32.7+k3s1";
  c.pools = {pool("workers", "1.32.7+k3s1", 3)};
  CHECK(plan_of(spec, {c}, catalog).members.at(0).skip == SkipReason::kAlreadyAtTarget);
  // An EKS cluster (through Arc) the same way.
  c.kubernetes_version = "1.32.7-eks-a737599";
  CHECK(plan_of(spec, {c}, catalog).members.at(0).skip == SkipReason::kAlreadyAtTarget);
}

TEST_CASE("plan: 1.30 to 1.32 is two control-plane hops, then the pools", "[rollout][plan]") {
  const auto catalog = small_catalog();
  const auto spec = full_spec("1.32.7", stages_of({"wave1"}));
  ClusterFacts c = cluster("c1");
  c.pools.push_back(pool("user", "1.30.5", 5));
  const Plan plan = plan_of(spec, {c}, catalog);
  REQUIRE(plan.members.size() == 1);
  const MemberPlan& m = plan.members[0];
  CHECK(m.skip == SkipReason::kNone);
  CHECK(m.from_version == "1.30.5");
  CHECK(m.to_version == "1.32.7");
  CHECK(m.cluster_id == "id-c1");
  REQUIRE(m.steps.size() == 4);
  // The newest supported 1.31 patch: not the retired 1.31.12, not the unreleased 1.31.13.
  CHECK(m.steps[0].kind == StepKind::kControlPlane);
  CHECK(kv(m.steps[0]) == "1.31.11");
  CHECK(m.steps[1].kind == StepKind::kControlPlane);
  CHECK(kv(m.steps[1]) == "1.32.7");
  CHECK(m.steps[2].kind == StepKind::kNodePool);
  CHECK(m.steps[2].pool == "system");
  CHECK(kv(m.steps[2]) == "1.32.7");
  CHECK(m.steps[2].node_image == kImageJan);  // Latest in eastus
  CHECK(m.steps[2].nodes == 3);
  CHECK(m.steps[3].pool == "user");
  CHECK(m.steps[3].nodes == 5);
  check_path(c, m.steps);
}

TEST_CASE("plan: a patch-only upgrade is one control-plane step and the pools", "[rollout][plan]") {
  const auto catalog = small_catalog();
  const auto spec = full_spec("1.32.7", stages_of({"wave1"}));
  const ClusterFacts c = cluster("c1", "wave1", "1.32.3");
  const Plan plan = plan_of(spec, {c}, catalog);
  const MemberPlan& m = plan.members.at(0);
  REQUIRE(m.steps.size() == 2);
  CHECK(m.steps[0].kind == StepKind::kControlPlane);
  CHECK(kv(m.steps[0]) == "1.32.7");
  CHECK(m.steps[1].kind == StepKind::kNodePool);
  CHECK(kv(m.steps[1]) == "1.32.7");
  check_path(c, m.steps);

  SECTION("ControlPlaneOnly leaves the pools alone") {
    const auto cp_only = full_spec("1.32.7", stages_of({"wave1"}), TargetType::kControlPlaneOnly);
    const Plan p = plan_of(cp_only, {c}, catalog);
    REQUIRE(p.members.at(0).steps.size() == 1);
    CHECK(p.members[0].steps[0].kind == StepKind::kControlPlane);
  }
}

TEST_CASE("plan: a pool three minors behind is brought along so the kubelet skew never exceeds 3", "[rollout][plan]") {
  const auto catalog = small_catalog();
  ClusterFacts c = cluster("c1");
  c.pools = {pool("new", "1.30.5"), pool("old", "1.27.3", 4)};

  SECTION("to 1.32") {
    const Plan plan = plan_of(full_spec("1.32.7", stages_of({"wave1"})), {c}, catalog);
    const MemberPlan& m = plan.members.at(0);
    REQUIRE(m.skip == SkipReason::kNone);
    REQUIRE(m.steps.size() == 5);
    // The old pool moves to the control plane's version before the first hop would leave it 4 minors behind.
    CHECK(m.steps[0].kind == StepKind::kNodePool);
    CHECK(m.steps[0].pool == "old");
    CHECK(kv(m.steps[0]) == "1.30.5");
    CHECK(m.steps[0].node_image.empty());
    CHECK(kv(m.steps[1]) == "1.31.11");
    CHECK(kv(m.steps[2]) == "1.32.7");
    CHECK(m.steps[3].pool == "new");
    CHECK(m.steps[4].pool == "old");
    CHECK(kv(m.steps[4]) == "1.32.7");
    check_path(c, m.steps);
  }
  SECTION("to 1.33: three hops, one bump") {
    const Plan plan = plan_of(full_spec("1.33.3", stages_of({"wave1"})), {c}, catalog);
    const MemberPlan& m = plan.members.at(0);
    REQUIRE(m.skip == SkipReason::kNone);
    int bumps = 0;
    int hops = 0;
    for (const auto& s : m.steps) {
      if (s.kind == StepKind::kControlPlane) ++hops;
      if (s.kind == StepKind::kNodePool && s.pool == "old") ++bumps;
    }
    CHECK(hops == 3);
    CHECK(bumps == 2);  // to 1.30.5 before 1.31, then to 1.33.3 at the end
    check_path(c, m.steps);
  }
  SECTION("a pool three behind is bumped before the hop that would leave it four behind") {
    ClusterFacts c2 = cluster("c1", "wave1", "1.31.11");
    c2.pools = {pool("old", "1.28.15")};
    const Plan plan = plan_of(full_spec("1.32.7", stages_of({"wave1"})), {c2}, catalog);
    const MemberPlan& m = plan.members.at(0);
    REQUIRE(m.steps.size() == 3);
    CHECK(m.steps[0].kind == StepKind::kNodePool);
    CHECK(kv(m.steps[0]) == "1.31.11");
    CHECK(kv(m.steps[1]) == "1.32.7");
    CHECK(kv(m.steps[2]) == "1.32.7");
    check_path(c2, m.steps);
  }
  SECTION("ControlPlaneOnly cannot bring the pool along: VersionSkew") {
    const Plan plan = plan_of(full_spec("1.32.7", stages_of({"wave1"}), TargetType::kControlPlaneOnly), {c}, catalog);
    const MemberPlan& m = plan.members.at(0);
    CHECK(m.skip == SkipReason::kSkew);
    CHECK(to_string(m.skip) == "VersionSkew");
    CHECK(m.steps.empty());
    CHECK_THAT(m.message, Catch::Contains("old"));
  }
  SECTION("ControlPlaneOnly within the skew is planned") {
    ClusterFacts c3 = cluster("c1", "wave1", "1.30.5");
    c3.pools = {pool("old", "1.28.15")};
    const Plan plan = plan_of(full_spec("1.31.11", stages_of({"wave1"}), TargetType::kControlPlaneOnly), {c3}, catalog);
    const MemberPlan& m = plan.members.at(0);
    REQUIRE(m.skip == SkipReason::kNone);
    REQUIRE(m.steps.size() == 1);
    check_path(c3, m.steps);
  }
}

TEST_CASE("plan: blue-green pools get a new name the cluster has not got, and a later step follows it",
          "[rollout][plan][blue-green]") {
  const auto catalog = small_catalog();
  ClusterFacts c = cluster("c1");
  c.pools = {pool("gpu", "1.30.5"), pool("gpu2", "1.30.5"), pool("old", "1.27.3", 4), pool("system", "1.30.5")};
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}));
  spec.node_upgrade.blue_green = BlueGreenSettings{{"gpu", "old"}, Seconds{1800}};
  const Plan plan = plan_of(spec, {c}, catalog);
  const MemberPlan& m = plan.members.at(0);
  REQUIRE(m.skip == SkipReason::kNone);
  std::vector<std::string> pools;
  for (const auto& s : m.steps) {
    if (s.kind == StepKind::kNodePool) pools.push_back(s.pool + ">" + (s.replacement.empty() ? "-" : s.replacement));
  }
  // "old" is brought along before the first hop (old → old2), then upgraded at the end under its new name
  // (old2 → old3); gpu2 is taken, so gpu becomes gpu3; gpu2 and system are upgraded in place.
  CHECK(pools == std::vector<std::string>{"old>old2", "gpu>gpu3", "gpu2>-", "old2>old3", "system>-"});

  CHECK(replacement_pool_name("pool-9", {}) == "pool-10");
  CHECK(replacement_pool_name("gpunodepool1", {}) == "gpunodepool2");
  CHECK(replacement_pool_name("gpunodepool9", {}) == "gpunodepoo10");
  CHECK(replacement_pool_name("a-very-long-pool-name", {}) ==
        "a-very-long-pool-nam2");  // no longer than the name it replaces
  CHECK(replacement_pool_name("7", {}) == "p8");
}

TEST_CASE("plan: every skip reason", "[rollout][plan]") {
  const auto catalog = small_catalog();
  const auto spec = full_spec("1.32.7", stages_of({"wave1"}));
  auto skip_of = [&](const ClusterFacts& c, const RunSpec& s) {
    const Plan plan = plan_of(s, {c}, catalog);
    REQUIRE(plan.members.size() == 1);
    const MemberPlan& m = plan.members[0];
    if (m.skip != SkipReason::kNone) {
      CHECK(m.steps.empty());
      CHECK_FALSE(m.message.empty());
      CHECK(m.estimate == Seconds{0});
    }
    return m;
  };

  SECTION("AlreadyAtTarget") {
    ClusterFacts c = cluster("c1", "wave1", "1.32.7");
    c.pools = {pool("system", "1.32.7", 3, kImageJan)};
    CHECK(skip_of(c, spec).skip == SkipReason::kAlreadyAtTarget);
    // An older image is still work for Full.
    c.pools = {pool("system", "1.32.7", 3, kImageDec)};
    const MemberPlan m = skip_of(c, spec);
    REQUIRE(m.skip == SkipReason::kNone);
    REQUIRE(m.steps.size() == 1);
    CHECK(m.steps[0].node_image == kImageJan);
    CHECK_FALSE(m.steps[0].kubernetes_version);
    // ControlPlaneOnly does not look at images.
    CHECK(skip_of(c, full_spec("1.32.7", stages_of({"wave1"}), TargetType::kControlPlaneOnly)).skip ==
          SkipReason::kAlreadyAtTarget);
  }
  SECTION("Unreachable, Stopped, NoAgent, Deleting") {
    ClusterFacts c = cluster("c1");
    c.state = "unreachable";
    CHECK(skip_of(c, spec).skip == SkipReason::kUnreachable);
    c.state = "deleting";
    CHECK(skip_of(c, spec).skip == SkipReason::kDeleting);
    c.state = "registering";
    CHECK(skip_of(c, spec).skip == SkipReason::kNoAgent);
    c.state = "ready";
    c.stopped = true;
    CHECK(skip_of(c, spec).skip == SkipReason::kStopped);
    c.stopped = false;
    c.kubernetes_version = "";  // never reported a version
    CHECK(skip_of(c, spec).skip == SkipReason::kNoAgent);
    CHECK(to_string(SkipReason::kUnreachable) == "Unreachable");
    CHECK(to_string(SkipReason::kStopped) == "Stopped");
    CHECK(to_string(SkipReason::kNoAgent) == "NoAgent");
    CHECK(to_string(SkipReason::kDeleting) == "Deleting");
  }
  SECTION("TargetNotInCatalog: the target, or a minor to pass through") {
    CHECK(skip_of(cluster("c1"), full_spec("1.32.99", stages_of({"wave1"}))).skip == SkipReason::kTargetNotInCatalog);
    ClusterFacts arc = cluster("c1");
    arc.provider = "arc";
    const MemberPlan m = skip_of(arc, spec);
    CHECK(m.skip == SkipReason::kTargetNotInCatalog);
    CHECK_THAT(m.message, Catch::Contains("1.31"));
    CHECK(to_string(m.skip) == "TargetNotInCatalog");
    // arc 1.32.3 → 1.32.7 needs no 1.31.
    arc.kubernetes_version = "1.32.3";
    arc.pools = {pool("system", "1.32.3")};
    CHECK(skip_of(arc, spec).skip == SkipReason::kNone);
  }
  SECTION("TargetUnsupported, and allowUnsupported") {
    ClusterFacts c = cluster("c1", "wave1", "1.28.10");
    RunSpec old = full_spec("1.28.15", stages_of({"wave1"}));
    const MemberPlan m = skip_of(c, old);
    CHECK(m.skip == SkipReason::kTargetUnsupported);
    CHECK(to_string(m.skip) == "TargetUnsupported");
    old.target.allow_unsupported = true;
    const MemberPlan allowed = skip_of(c, old);
    REQUIRE(allowed.skip == SkipReason::kNone);
    REQUIRE_FALSE(allowed.steps.empty());
    CHECK(kv(allowed.steps[0]) == "1.28.15");
    // Not yet released is outside the window too.
    RunSpec future = full_spec("1.31.13", stages_of({"wave1"}));
    CHECK(skip_of(cluster("c1"), future).skip == SkipReason::kTargetUnsupported);
    // Retired never becomes a target, even when unsupported ones are allowed.
    RunSpec retired = full_spec("1.31.12", stages_of({"wave1"}));
    retired.target.allow_unsupported = true;
    CHECK(skip_of(cluster("c1"), retired).skip == SkipReason::kTargetUnsupported);
  }
  SECTION("DriverIncompatible with the Kubernetes version") {
    ClusterFacts c = cluster("c1", "wave1", "1.32.7");
    c.pools = {gpu_pool("gpu", "1.32.7", "535.104.05"), pool("system", "1.32.7")};
    const MemberPlan m = skip_of(c, full_spec("1.33.3", stages_of({"wave1"})));
    CHECK(m.skip == SkipReason::kDriverIncompatible);
    CHECK_THAT(m.message, Catch::Contains("535.104.05") && Catch::Contains("1.33.3"));
    CHECK(to_string(m.skip) == "DriverIncompatible");
    // A driver in range is fine.
    c.pools = {gpu_pool("gpu", "1.32.7", "570.124.06")};
    CHECK(skip_of(c, full_spec("1.33.3", stages_of({"wave1"}))).skip == SkipReason::kNone);
    // An intermediate minor's range counts too: 1.33.3 takes 590, the 1.32.7 on the way allows at most 580.
    ClusterFacts hop = cluster("c1", "wave1", "1.31.11");
    hop.pools = {gpu_pool("gpu", "1.31.11", "590.1.0")};
    const MemberPlan mh = skip_of(hop, full_spec("1.33.3", stages_of({"wave1"})));
    CHECK(mh.skip == SkipReason::kDriverIncompatible);
    CHECK_THAT(mh.message, Catch::Contains("1.32.7"));
  }
  SECTION("DriverIncompatible with the node image") {
    // 1.32.7 takes 535-580, but the newest eastus image needs >= 550.
    ClusterFacts c = cluster("c1");
    c.pools = {gpu_pool("gpu", "1.30.5", "535.104.05")};
    const MemberPlan m = skip_of(c, spec);
    CHECK(m.skip == SkipReason::kDriverIncompatible);
    CHECK_THAT(m.message, Catch::Contains("node image") && Catch::Contains(kImageJan));
    // In westus the newest image has no driver constraint.
    c.region = "westus";
    CHECK(skip_of(c, spec).skip == SkipReason::kNone);
    // An image's range is about the pools that run it: the AzureLinux image (>= 560) of a CPU pool says nothing
    // about the Ubuntu GPU pool's 550 driver.
    c.pools = {pool("cpu", "1.30.5", 3, kImageAzl), gpu_pool("gpu", "1.30.5", "550.90.07")};
    const MemberPlan mixed = skip_of(c, spec);
    REQUIRE(mixed.skip == SkipReason::kNone);
    CHECK(mixed.steps.back().pool == "gpu");
    CHECK(mixed.steps[mixed.steps.size() - 2].node_image == kImageAzlJan);
  }
  SECTION("Downgrade") {
    ClusterFacts c = cluster("c1", "wave1", "1.33.3");
    const MemberPlan m = skip_of(c, spec);
    CHECK(m.skip == SkipReason::kDowngrade);
    CHECK(to_string(m.skip) == "Downgrade");
    // A pool newer than the target is a downgrade too.
    ClusterFacts p = cluster("c1", "wave1", "1.32.3");
    p.pools = {pool("system", "1.32.9")};
    CHECK(skip_of(p, spec).skip == SkipReason::kDowngrade);
  }
  SECTION("NoNodeImage") {
    ClusterFacts c = cluster("c1");
    c.pools = {pool("win", "1.30.5", 2, kImageWin)};
    const MemberPlan m = skip_of(c, full_spec("", stages_of({"wave1"}), TargetType::kNodeImageOnly));
    CHECK(m.skip == SkipReason::kNoNodeImage);
    CHECK(to_string(m.skip) == "NoNodeImage");
    // Full on a family without images upgrades the Kubernetes version only.
    const MemberPlan full = skip_of(c, spec);
    REQUIRE(full.skip == SkipReason::kNone);
    CHECK(full.steps.back().node_image.empty());
    // Custom with an image of another OS family.
    RunSpec custom = full_spec("", stages_of({"wave1"}), TargetType::kNodeImageOnly);
    custom.target.node_image_selection = NodeImageSelection::kCustom;
    custom.target.custom_node_image = kImageAzl;
    CHECK(skip_of(cluster("c1"), custom).skip == SkipReason::kNoNodeImage);
  }
  SECTION("NodeImageOnly already on the newest image") {
    ClusterFacts c = cluster("c1");
    c.pools = {pool("system", "1.30.5", 3, kImageJan)};
    const MemberPlan m = skip_of(c, full_spec("", stages_of({"wave1"}), TargetType::kNodeImageOnly));
    CHECK(m.skip == SkipReason::kAlreadyAtTarget);
    CHECK(m.to_version == "1.30.5");
  }
  CHECK(to_string(SkipReason::kNotInStrategy) == "NotInStrategy");
}

TEST_CASE("plan: node image selection Latest, Consistent and Custom", "[rollout][plan]") {
  const auto catalog = small_catalog();
  const std::vector<ClusterFacts> clusters = {cluster("east"), cluster("west", "wave1", "1.30.5", "westus"),
                                              cluster("north", "wave1", "1.30.5", "northeurope")};
  auto images = [&](const RunSpec& spec, std::vector<ClusterFacts> cs) {
    std::map<std::string, std::string> out;
    const Plan plan = plan_of(spec, std::move(cs), catalog);
    for (const auto& m : plan.members) {
      REQUIRE(m.skip == SkipReason::kNone);
      out[m.cluster] = m.steps.at(0).node_image;
    }
    return out;
  };
  RunSpec spec = full_spec("", stages_of({"wave1"}), TargetType::kNodeImageOnly);

  SECTION("Latest: the newest image in each cluster's region") {
    auto got = images(spec, clusters);
    CHECK(got["east"] == kImageJan);
    CHECK(got["west"] == kImageDec);
    CHECK(got["north"] == kImageOct);
  }
  SECTION("Consistent: the newest image available in every affected region") {
    spec.target.node_image_selection = NodeImageSelection::kConsistent;
    auto two = images(spec, {clusters[0], clusters[1]});
    CHECK(two["east"] == kImageDec);
    CHECK(two["west"] == kImageDec);
    auto three = images(spec, clusters);
    CHECK(three["east"] == kImageOct);
    CHECK(three["west"] == kImageOct);
    CHECK(three["north"] == kImageOct);
    // A cluster the run skips for its state does not hold the others back.
    ClusterFacts down = clusters[2];
    down.state = "unreachable";
    const Plan plan = plan_of(spec, {clusters[0], clusters[1], down}, catalog);
    CHECK(member_of(plan, "east").steps.at(0).node_image == kImageDec);
    CHECK(member_of(plan, "north").skip == SkipReason::kUnreachable);
  }
  SECTION("Custom: the pinned image everywhere") {
    spec.target.node_image_selection = NodeImageSelection::kCustom;
    spec.target.custom_node_image = kImageDec;
    auto got = images(spec, clusters);
    CHECK(got["east"] == kImageDec);
    CHECK(got["west"] == kImageDec);
    CHECK(got["north"] == kImageDec);
  }
  SECTION("Custom not in the catalog is an error") {
    spec.target.node_image_selection = NodeImageSelection::kCustom;
    spec.target.custom_node_image = "AKSUbuntu-2204gen2containerd-209901.01.0";
    auto plan = try_plan(spec, clusters, catalog);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == ErrorCode::kInvalid);
    CHECK(plan.error().field == "target.nodeImageVersion");
    CHECK_THAT(plan.error().message, Catch::Contains("209901"));
  }
  SECTION("an image update stays in the pool's image line: no move from Ubuntu 22.04 to 24.04") {
    CatalogEntry noble = image("aks", "AKSUbuntu-2404gen2containerd-202601.10.0", "2026-01-10T00:00:00Z");
    auto with_noble = catalog;
    with_noble.entries.push_back(noble);
    const Plan latest = plan_of(spec, {clusters[0]}, with_noble);
    CHECK(latest.members.at(0).steps.at(0).node_image == kImageJan);
    spec.target.node_image_selection = NodeImageSelection::kCustom;
    spec.target.custom_node_image = noble.version;
    const Plan pinned = plan_of(spec, {clusters[0]}, with_noble);
    CHECK(pinned.members.at(0).skip == SkipReason::kNoNodeImage);
    CHECK_THAT(pinned.members.at(0).message, Catch::Contains("AKSUbuntu-2204gen2containerd"));
  }
  SECTION("never back to an older image than the pool runs") {
    ClusterFacts c = cluster("north", "wave1", "1.30.5", "northeurope");
    c.pools = {pool("system", "1.30.5", 3, kImageJan)};  // newer than northeurope's newest
    const Plan plan = plan_of(spec, {c}, catalog);
    CHECK(plan.members.at(0).skip == SkipReason::kAlreadyAtTarget);
  }
}

TEST_CASE("plan: membership errors, unmatched clusters and sortBy", "[rollout][plan]") {
  const auto catalog = small_catalog();

  SECTION("a cluster in two stages is an error naming both") {
    Strategy s;
    StageSpec canary;
    canary.name = "canary";
    canary.selector = *model::parse_label_selector("env=prod");
    canary.groups.push_back(group("canary"));
    s.stages.push_back(canary);
    s.stages.push_back(stage("prod", {group("wave1")}));
    ClusterFacts c = cluster("both");
    c.labels["env"] = "prod";
    auto plan = try_plan(full_spec("1.32.7", s), {cluster("only"), c}, catalog);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == ErrorCode::kInvalid);
    CHECK(plan.error().type == "cluster-in-two-stages");
    CHECK_THAT(plan.error().message, Catch::Contains("both") && Catch::Contains("canary") && Catch::Contains("prod"));
  }
  SECTION("clusters no stage selects are listed, not planned") {
    const Plan plan = plan_of(full_spec("1.32.7", stages_of({"wave1"})),
                              {cluster("b", "other"), cluster("a"), cluster("c", "")}, catalog);
    REQUIRE(plan.members.size() == 1);
    CHECK(plan.members[0].cluster == "a");
    CHECK(plan.unmatched == std::vector<std::string>{"b", "c"});
  }
  SECTION("a stage that selects nothing is a warning") {
    const Plan plan = plan_of(full_spec("1.32.7", stages_of({"wave1", "wave2"})), {cluster("a")}, catalog);
    CHECK(std::any_of(plan.warnings.begin(), plan.warnings.end(),
                      [](const std::string& w) { return w.find("wave2") != std::string::npos; }));
  }
  SECTION("sortBy orders by the label's value, clusters without it last, then by name") {
    Strategy s = stages_of({"wave1"});
    s.stages[0].sort_by_label = "ring";
    std::vector<ClusterFacts> cs = {cluster("c-a"), cluster("c-b"), cluster("c-c"), cluster("c-d"), cluster("c-e")};
    cs[0].labels["ring"] = "2";
    cs[1].labels["ring"] = "1";
    cs[3].labels["ring"] = "1";
    cs[4].labels["ring"] = "0";
    const Plan plan = plan_of(full_spec("1.32.7", s), cs, catalog);
    std::vector<std::string> order;
    for (std::size_t i : plan.stages.at(0).groups.at(0).members) order.push_back(plan.members[i].cluster);
    CHECK(order == std::vector<std::string>{"c-e", "c-b", "c-d", "c-a", "c-c"});
    // Without sortBy: by name.
    const Plan by_name = plan_of(full_spec("1.32.7", stages_of({"wave1"})), cs, catalog);
    order.clear();
    for (std::size_t i : by_name.stages.at(0).groups.at(0).members) order.push_back(by_name.members[i].cluster);
    CHECK(order == std::vector<std::string>{"c-a", "c-b", "c-c", "c-d", "c-e"});
  }
  SECTION("a selector stage has one group named after the stage") {
    Strategy s;
    StageSpec sel;
    sel.name = "gpu";
    sel.selector = *model::parse_label_selector("gpu=true");
    sel.groups.push_back(group("gpu"));
    s.stages.push_back(sel);
    ClusterFacts g = cluster("g1", "");
    g.labels["gpu"] = "true";
    const Plan plan = plan_of(full_spec("1.32.7", s), {g, cluster("cpu1")}, catalog);
    REQUIRE(plan.members.size() == 1);
    CHECK(plan.members[0].cluster == "g1");
    CHECK(plan.stages[0].groups[0].name == "gpu");
    CHECK(plan.unmatched == std::vector<std::string>{"cpu1"});
  }
}

std::vector<std::size_t> batch_sizes(const StagePlan& sp) {
  std::vector<std::size_t> out;
  for (const auto& b : sp.batches) out.push_back(b.size());
  return out;
}

std::vector<ClusterFacts> clusters_in(const std::string& group, int n, const std::string& prefix = "c") {
  std::vector<ClusterFacts> out;
  for (int i = 0; i < n; ++i) out.push_back(cluster(prefix + std::to_string(i), group));
  return out;
}

TEST_CASE("plan: percent concurrency rounds down, at least 1, and shows in the batches", "[rollout][plan]") {
  const auto catalog = small_catalog();
  SECTION("50% of 5 is 2") {
    Strategy s;
    s.stages.push_back(stage("waves", {group("wave1", Budget{50, true})}));
    const Plan plan = plan_of(full_spec("1.32.7", s), clusters_in("wave1", 5), catalog);
    CHECK(plan.stages[0].groups[0].concurrency == 2);
    CHECK(batch_sizes(plan.stages[0]) == std::vector<std::size_t>{2, 2, 1});
    CHECK(plan.stages[0].batches[0] == std::vector<std::string>{"c0", "c1"});
  }
  SECTION("10% of 5 is at least 1") {
    Strategy s;
    s.stages.push_back(stage("waves", {group("wave1", Budget{10, true})}));
    const Plan plan = plan_of(full_spec("1.32.7", s), clusters_in("wave1", 5), catalog);
    CHECK(plan.stages[0].groups[0].concurrency == 1);
    CHECK(batch_sizes(plan.stages[0]) == std::vector<std::size_t>{1, 1, 1, 1, 1});
  }
  SECTION("no limit: the whole group at once") {
    const Plan plan = plan_of(full_spec("1.32.7", stages_of({"wave1"})), clusters_in("wave1", 5), catalog);
    CHECK(plan.stages[0].groups[0].concurrency == 5);
    CHECK_FALSE(plan.stages[0].concurrency);
    CHECK(batch_sizes(plan.stages[0]) == std::vector<std::size_t>{5});
  }
  SECTION("a stage-wide limit across parallel groups, round-robin") {
    Strategy s;
    s.stages.push_back(stage("waves", {group("wave1"), group("wave2")}, Budget{50, true}));
    auto cs = clusters_in("wave1", 4, "a");
    for (auto& c : clusters_in("wave2", 4, "b")) cs.push_back(c);
    const Plan plan = plan_of(full_spec("1.32.7", s), cs, catalog);
    REQUIRE(plan.stages[0].concurrency);
    CHECK(*plan.stages[0].concurrency == 4);
    CHECK(batch_sizes(plan.stages[0]) == std::vector<std::size_t>{4, 4});
    CHECK(plan.stages[0].batches[0] == std::vector<std::string>{"a0", "b0", "a1", "b1"});
  }
  SECTION("the stage limit is of the stage's members, skipped ones included, as the run machine counts") {
    Strategy s;
    s.stages.push_back(stage("waves", {group("wave1")}, Budget{50, true}));
    auto cs = clusters_in("wave1", 6);
    cs[4].state = "unreachable";
    cs[5].state = "unreachable";
    const Plan plan = plan_of(full_spec("1.32.7", s), cs, catalog);
    REQUIRE(plan.stages[0].concurrency);
    CHECK(*plan.stages[0].concurrency == 3);
    CHECK(batch_sizes(plan.stages[0]) == std::vector<std::size_t>{3, 1});
  }
}

TEST_CASE("plan: estimates from step durations, surge batches, group parallelism and waits", "[rollout][plan]") {
  const auto catalog = small_catalog();
  ClusterFacts c = cluster("c1");  // 1.30.5 → 1.32.7: two hops and a 3-node pool
  SECTION("defaults: 600 s a control-plane hop, 300 s a node") {
    const Plan plan = plan_of(full_spec("1.32.7", stages_of({"wave1"})), {c}, catalog);
    CHECK(plan.members[0].estimate == Seconds{2 * 600 + 3 * 300});
    CHECK(plan.stages[0].estimate == Seconds{2100});
    CHECK(plan.estimate == Seconds{2100});
    CHECK(std::any_of(plan.warnings.begin(), plan.warnings.end(),
                      [](const std::string& w) { return w.find("default") != std::string::npos; }));
  }
  SECTION("measured history per provider, surge batches") {
    StepHistory h;
    h.by_provider["aks"] = StepDurations{Seconds{100}, Seconds{10}, true};
    RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}));
    c.pools = {pool("system", "1.30.5", 7)};
    CHECK(plan_of(spec, {c}, catalog, h).members[0].estimate == Seconds{200 + 7 * 10});
    spec.node_upgrade.max_surge = protocol::NodeBudget{2, false};
    CHECK(plan_of(spec, {c}, catalog, h).members[0].estimate == Seconds{200 + 4 * 10});  // ceil(7/2) rounds
    spec.node_upgrade.max_surge = protocol::NodeBudget{50, true};                        // ceil(3.5) = 4
    spec.node_upgrade.max_unavailable = protocol::NodeBudget{1, false};                  // 5 a round
    const Plan plan = plan_of(spec, {c}, catalog, h);
    CHECK(plan.members[0].estimate == Seconds{200 + 2 * 10});
    CHECK(std::none_of(plan.warnings.begin(), plan.warnings.end(),
                       [](const std::string& w) { return w.find("default") != std::string::npos; }));
  }
  SECTION("groups run in parallel; a stage lasts as long as its slowest group, plus its waits") {
    Strategy s;
    StageSpec st = stage("waves", {group("wave1"), group("wave2", Budget{1, false})});
    st.before_gates.push_back(gate("pause", GateType::kWait));
    st.before_gates.back().duration = Seconds{600};
    st.after_gates.push_back(gate("signoff", GateType::kApproval));
    st.after_stage_wait = Seconds{300};
    s.stages.push_back(st);
    s.stages.push_back(stage("last", {group("wave3")}));
    std::vector<ClusterFacts> cs = {cluster("a1"), cluster("a2"), cluster("b1", "wave2"), cluster("b2", "wave2"),
                                    cluster("z1", "wave3", "1.32.3")};
    const Plan plan = plan_of(full_spec("1.32.7", s), cs, catalog);
    // wave1: both at once (2100 s); wave2: one at a time (4200 s).
    CHECK(plan.stages[0].estimate == Seconds{600 + 4200 + 300});
    CHECK(plan.stages[1].estimate == Seconds{600 + 3 * 300});
    CHECK(plan.estimate == plan.stages[0].estimate + plan.stages[1].estimate);
    CHECK(plan.approvals == 1);
    CHECK(batch_sizes(plan.stages[0]) == std::vector<std::size_t>{3, 1});
  }
  SECTION("a ScheduledStart gate waits until its time") {
    Strategy s = stages_of({"wave1"});
    s.stages[0].before_gates.push_back(gate("at-night", GateType::kScheduledStart));
    s.stages[0].before_gates.back().not_before = test_now() + Seconds{5000};
    const Plan plan = plan_of(full_spec("1.32.7", s), {c}, catalog);
    CHECK(plan.estimate == Seconds{5000 + 2100});
  }
}

TEST_CASE("plan: deterministic, whatever the input order", "[rollout][plan]") {
  const auto catalog = small_catalog();
  Strategy s = stages_of({"canary", "wave1", "wave2"});
  s.stages[1].groups[0].max_concurrency = Budget{30, true};
  s.stages[2].sort_by_label = "ring";
  std::vector<ClusterFacts> cs;
  std::mt19937 rng(12);  // seeded: the input order only
  for (int i = 0; i < 60; ++i) {
    const char* groups[] = {"canary", "wave1", "wave2", "none"};
    const char* regions[] = {"eastus", "westus", "northeurope"};
    const char* versions[] = {"1.30.5", "1.31.2", "1.32.3", "1.32.7"};
    ClusterFacts c = cluster("c" + std::to_string(i), groups[i % 4], versions[i % 4], regions[i % 3]);
    c.labels["ring"] = std::to_string(i % 5);
    if (i % 7 == 0) c.pools.push_back(gpu_pool("gpu", c.kubernetes_version, i % 2 ? "535.104.05" : "570.124.06"));
    if (i % 11 == 0) c.state = "unreachable";
    cs.push_back(c);
  }
  for (auto selection : {NodeImageSelection::kLatest, NodeImageSelection::kConsistent}) {
    RunSpec spec = full_spec("1.32.7", s);
    spec.target.node_image_selection = selection;
    const auto first = to_json(plan_of(spec, cs, catalog), spec);
    const auto again = to_json(plan_of(spec, cs, catalog), spec);
    CHECK(first == again);
    auto shuffled = cs;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    CHECK(to_json(plan_of(spec, shuffled, catalog), spec).dump() == first.dump());
    CHECK(first["members"].size() == 45);
    CHECK(first["unmatched"].size() == 15);
    CHECK(first["stages"].size() == 3);
  }
}

TEST_CASE("plan: the JSON form", "[rollout][plan]") {
  const auto catalog = small_catalog();
  RunSpec spec = full_spec("1.32.7", stages_of({"wave1"}, Budget{1, false}));
  ClusterFacts down = cluster("down");
  down.state = "unreachable";
  const auto j = to_json(plan_of(spec, {cluster("up"), down, cluster("stray", "x")}, catalog), spec);
  CHECK(j["estimateSeconds"] == 2100);
  CHECK(j["unmatched"] == nlohmann::json::array({"stray"}));
  CHECK(j["stages"][0]["name"] == "wave1");
  CHECK(j["stages"][0]["concurrency"] == 1);
  CHECK(j["stages"][0]["batches"] == nlohmann::json::parse(R"([["up"]])"));
  const auto& members = j["members"];
  REQUIRE(members.size() == 2);
  CHECK(members[0]["cluster"] == "down");
  CHECK(members[0]["skipReason"] == "Unreachable");
  CHECK(members[1]["cluster"] == "up");
  CHECK_FALSE(members[1].contains("skipReason"));
  CHECK(members[1]["steps"].size() == 3);
  CHECK(members[1]["steps"][0]["description"] == "control plane → 1.31.11");
  CHECK(members[1]["group"] == "wave1");
}

TEST_CASE("plan: 10,000 clusters", "[rollout][plan]") {
  const auto catalog = small_catalog();
  Strategy s;
  s.stages.push_back(stage("canary", {group("canary", Budget{1, false})}));
  s.stages.push_back(
      stage("wave1", {group("wave1a", Budget{10, true}), group("wave1b", Budget{10, true})}, Budget{100, false}));
  s.stages.push_back(stage("wave2", {group("wave2", Budget{50, true})}));
  std::vector<ClusterFacts> cs;
  cs.reserve(10000);
  const char* groups[] = {"wave1a", "wave1b", "wave2", "wave2"};
  const char* regions[] = {"eastus", "westus", "northeurope"};
  for (int i = 0; i < 10000; ++i) {
    ClusterFacts c = cluster("cluster-" + std::to_string(i), i < 20 ? "canary" : groups[i % 4],
                             i % 3 ? "1.31.11" : "1.30.5", regions[i % 3]);
    c.pools.push_back(pool("user", c.kubernetes_version, 10));
    cs.push_back(std::move(c));
  }
  RunSpec spec = full_spec("1.32.7", s);
  spec.target.node_image_selection = NodeImageSelection::kConsistent;
  const Plan plan = plan_of(spec, std::move(cs), catalog);
  CHECK(plan.members.size() == 10000);
  CHECK(plan.unmatched.empty());
  std::size_t batched = 0;
  std::size_t widest_wave1 = 0;
  for (const auto& sp : plan.stages) {
    for (const auto& b : sp.batches) batched += b.size();
  }
  for (const auto& b : plan.stages[1].batches) widest_wave1 = std::max(widest_wave1, b.size());
  CHECK(batched == 10000);
  CHECK(widest_wave1 == 100);  // the stage-wide limit across its two groups
  CHECK(plan.estimate > Seconds{0});
}

// assign_members and select_starts directly: the pieces the run machine shares with the planner.
TEST_CASE("plan: select_starts is round-robin within group and stage limits", "[rollout][plan]") {
  auto starts = select_starts({3, 3, 1}, {0, 1, 0}, {2, 2, 2}, std::nullopt);
  std::vector<std::pair<std::size_t, std::size_t>> got;
  for (const auto& s : starts) got.emplace_back(s.group, s.index);
  CHECK(got == std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}, {1, 0}, {2, 0}, {0, 1}});
  CHECK(select_starts({3, 3}, {1, 1}, {5, 5}, 2).empty());
  CHECK(select_starts({3, 3}, {1, 0}, {5, 5}, 3).size() == 2);
  CHECK(select_starts({0, 0}, {0, 0}, {5, 5}, std::nullopt).empty());
}

}  // namespace
}  // namespace fleet::rollout
