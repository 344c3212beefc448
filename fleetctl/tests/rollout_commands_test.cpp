// rollout plan|create|start|…|status --watch, get rollouts|strategies, against a scripted fake of fleetd's API.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <tuple>

#include "fleetctl/rollout_view.hpp"
#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using nlohmann::json;
using testing::Harness;
using testing::json_response;
using testing::problem;
using testing::SeenRequest;

namespace {

json plan_step(const std::string& kind, int nodes) {
  return {{"kind", kind}, {"nodes", nodes}, {"gpuNodes", 0}, {"description", kind}};
}

json plan_member(const std::string& cluster, const std::string& stage, const std::string& group,
                 const std::string& from, int steps, double estimate) {
  json m = {{"cluster", cluster},          {"stage", stage},        {"group", group},
            {"fromVersion", from},         {"toVersion", "1.32.7"}, {"message", ""},
            {"estimateSeconds", estimate}, {"steps", json::array()}};
  for (int i = 0; i < steps; ++i) m["steps"].push_back(plan_step(i == 0 ? "ControlPlane" : "NodePool", 3));
  return m;
}

json sample_plan() {
  json skipped = plan_member("arc-2", "waves", "wave1", "1.32.7", 0, 0);
  skipped["skipReason"] = "AlreadyAtTarget";
  skipped["message"] = "already at 1.32.7";
  return {{"target", {{"type", "Full"}, {"kubernetesVersion", "1.32.7"}, {"nodeImageSelection", "Latest"}}},
          {"estimateSeconds", 8100},
          {"approvals", 1},
          {"warnings", {"arc-3 has no maintenance window"}},
          {"unmatched", {"lab-1", "lab-2"}},
          {"stages",
           {{{"name", "canary"},
             {"concurrency", "1"},
             {"estimateSeconds", 2700},
             {"groups", {{{"name", "canary"}, {"concurrency", 1}, {"members", {"aks-1"}}}}},
             {"batches", {{"aks-1"}}}},
            {{"name", "waves"},
             {"concurrency", "50%"},
             {"estimateSeconds", 5400},
             {"groups",
              {{{"name", "wave1"}, {"concurrency", 1}, {"members", {"arc-1", "arc-2"}}},
               {{"name", "wave2"}, {"concurrency", 1}, {"members", {"arc-3"}}}}},
             {"batches", {{"arc-1", "arc-3"}, {"arc-2"}}}}}},
          {"members",
           {plan_member("aks-1", "canary", "canary", "1.31.4", 3, 2700),
            plan_member("arc-1", "waves", "wave1", "1.30.9", 5, 5400), skipped,
            plan_member("arc-3", "waves", "wave2", "1.31.4", 2, 750)}}};
}

json run_member(const std::string& cluster, const std::string& group, const std::string& state, int step,
                const std::string& current = "", double estimate = 0) {
  return {{"cluster", cluster},
          {"group", group},
          {"state", state},
          {"fromVersion", "1.31.4"},
          {"toVersion", "1.32.7"},
          {"step", step},
          {"steps", 3},
          {"currentStep", current},
          {"attempt", 1},
          {"message", ""},
          {"estimateSeconds", estimate}};
}

json counts(int succeeded, int upgrading, int probing, int pending) {
  return {{"total", 3},  {"pending", pending}, {"upgrading", upgrading}, {"probing", probing}, {"succeeded", succeeded},
          {"failed", 0}, {"skipped", 0}};
}

// The run of the examples: canary (aks-1) done, waves (arc-1, arc-2) in the given states.
json sample_run(const std::string& state, const std::string& message, json run_counts, const std::string& waves_state,
                json arc1, json arc2) {
  json run = {{"name", "k8s-1-32"},
              {"state", state},
              {"message", message},
              {"target", {{"type", "Full"}, {"kubernetesVersion", "1.32.7"}}},
              {"strategy", {{"stages", json::array({json::object(), json::object()})}}},
              {"strategyRef", "standard"},
              {"createdAt", "2026-11-23T11:00:00.000Z"},
              {"startedAt", "2026-11-23T11:05:00.000Z"},
              {"resourceVersion", "9"},
              {"estimateSeconds", 1800},
              {"counts", run_counts},
              {"gates",
               {{{"name", "sre-signoff"},
                 {"type", "Approval"},
                 {"state", "Passed"},
                 {"stage", "canary"},
                 {"message", "approved by alice"}}}},
              {"stages",
               {{{"name", "canary"},
                 {"state", "Completed"},
                 {"groups", {{{"name", "canary"}, {"state", "Completed"}}}},
                 {"members", {run_member("aks-1", "canary", "Succeeded", 3)}}},
                {{"name", "waves"},
                 {"state", waves_state},
                 {"concurrency", "50%"},
                 {"groups", {{{"name", "wave1"}, {"state", waves_state}}}},
                 {"members", {arc1, arc2}}}}}};
  if (state == "Completed") run["finishedAt"] = "2026-11-23T11:50:00.000Z";
  return run;
}

json running_run() {
  return sample_run("Running", "stage waves running", counts(1, 1, 0, 1), "Running",
                    run_member("arc-1", "wave1", "Upgrading", 2, "pool gpu → 1.32.7 (4 nodes)", 900),
                    run_member("arc-2", "wave1", "Pending", 0));
}

json probing_run() {
  json run = sample_run("Running", "stage waves running", counts(1, 0, 1, 1), "Running",
                        run_member("arc-1", "wave1", "Probing", 3, "gpu-probe on 4 nodes", 60),
                        run_member("arc-2", "wave1", "Pending", 0));
  run["estimateSeconds"] = 600;
  return run;
}

json completed_run() {
  return sample_run("Completed", "all clusters upgraded", counts(3, 0, 0, 0), "Completed",
                    run_member("arc-1", "wave1", "Succeeded", 3), run_member("arc-2", "wave1", "Succeeded", 3));
}

const char* const kRunningStatus =
    "Name:      k8s-1-32\n"
    "State:     Running\n"
    "Message:   stage waves running\n"
    "Target:    Full 1.32.7\n"
    "Strategy:  standard\n"
    "Created:   2026-11-23T11:00:00.000Z\n"
    "Started:   2026-11-23T11:05:00.000Z\n"
    "Progress:  1/3 succeeded, 1 upgrading, 0 probing, 0 failed, 0 skipped, 1 pending\n"
    "ETA:       30m\n"
    "Gates:\n"
    "  NAME          TYPE       STATE    SCOPE    MESSAGE\n"
    "  sre-signoff   Approval   Passed   canary   approved by alice\n"
    "Stage canary   Completed   [##########] 1/1\n"
    "  CLUSTER   STATE       STEP   ETA/MESSAGE\n"
    "  aks-1     Succeeded   3/3    done\n"
    "Stage waves    Running     [----------] 0/2\n"
    "  CLUSTER   STATE       STEP                              ETA/MESSAGE\n"
    "  arc-1     Upgrading   2/3 pool gpu → 1.32.7 (4 nodes)   ETA 15m\n"
    "  arc-2     Pending     -                                 waiting\n";

// A fake fleetd that answers GET /v1/rollouts/k8s-1-32 with `script` in turn (the last one again at the end).
struct ScriptedRun {
  std::vector<testing::FakeHandler> script;
  std::size_t next = 0;
  Result<http::ClientResponse> operator()(const SeenRequest& req) {
    if (req.target != "/v1/rollouts/k8s-1-32") return json_response(404, problem("not-found", 404, "no"));
    const auto& answer = script[std::min(next, script.size() - 1)];
    ++next;
    return answer(req);
  }
};

testing::FakeHandler answer(const json& run) {
  return [run](const SeenRequest&) { return json_response(200, run.dump()); };
}

std::string write_file(const Harness& h, const std::string& name, const std::string& text) {
  const auto path = (h.dir() / name).string();
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("rollout plan -f: the spec (YAML) is posted, the plan printed per stage", "[fleetctl][rollout]") {
  Harness h([](const SeenRequest& req) {
    if (req.method == "POST" && req.target == "/v1/rollouts:plan") return json_response(200, sample_plan().dump());
    return json_response(404, problem("not-found", 404, "no"));
  });
  const auto spec = write_file(h, "run.yaml",
                               "name: k8s-1-32\n"
                               "target:\n"
                               "  type: Full\n"
                               "  kubernetesVersion: 1.32.7\n"
                               "strategyRef: standard\n");
  auto r = h.run_with_server({"rollout", "plan", "-f", spec});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "Target:     Full 1.32.7\n"
        "Approvals:  1\n"
        "Warning:    arc-3 has no maintenance window\n"
        "\n"
        "Stage canary: 1 cluster, 1 batch, concurrency 1, estimate 45m\n"
        "  CLUSTER   GROUP    FROM     TO       STEPS   ESTIMATE\n"
        "  aks-1     canary   1.31.4   1.32.7   3       45m\n"
        "\n"
        "Stage waves: 3 clusters, 2 batches, concurrency 50%, estimate 1h30m\n"
        "  CLUSTER   GROUP   FROM     TO       STEPS   ESTIMATE\n"
        "  arc-1     wave1   1.30.9   1.32.7   5       1h30m\n"
        "  arc-2     wave1   1.32.7   1.32.7   -       SKIPPED (AlreadyAtTarget: already at 1.32.7)\n"
        "  arc-3     wave2   1.31.4   1.32.7   2       12m30s\n"
        "\n"
        "Unmatched:  lab-1, lab-2 (in no stage)\n"
        "Estimate:   2h15m\n");
  REQUIRE(h.seen().size() == 1);
  CHECK(json::parse(h.seen()[0].body) == json{{"name", "k8s-1-32"},
                                              {"target", {{"type", "Full"}, {"kubernetesVersion", "1.32.7"}}},
                                              {"strategyRef", "standard"}});

  // -o json passes the plan through untouched; a JSON spec from stdin works as well.
  auto as_json = h.run({"rollout", "plan", "-f", "-", "-o", "json", "--server", "http://fleet.test:8080"},
                       R"({"name": "k8s-1-32", "target": {"type": "ControlPlaneOnly"}})");
  REQUIRE(as_json.exit_code == 0);
  CHECK(json::parse(as_json.out) == sample_plan());
  CHECK(json::parse(h.seen().back().body)["target"]["type"] == "ControlPlaneOnly");
  auto as_yaml = h.run_with_server({"rollout", "plan", "-f", spec, "-o", "yaml"});
  REQUIRE(as_yaml.exit_code == 0);
  CHECK_THAT(as_yaml.out, Catch::Contains("approvals: 1\n"));
}

TEST_CASE("rollout plan NAME: the plan of an existing run, spec file errors are usage errors", "[fleetctl][rollout]") {
  Harness h([](const SeenRequest& req) {
    if (req.target == "/v1/rollouts/k8s-1-32:plan") return json_response(200, sample_plan().dump());
    return json_response(404, problem("not-found", 404, "rollout nope not found"));
  });
  auto r = h.run_with_server({"rollout", "plan", "k8s-1-32", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  CHECK(h.seen().back().method == "POST");
  CHECK(h.seen().back().body.empty());
  CHECK(json::parse(r.out)["estimateSeconds"] == 8100);

  auto missing = h.run_with_server({"rollout", "plan", "nope"});
  CHECK(missing.exit_code == 3);
  CHECK(missing.err == "Error from server (not-found): rollout nope not found\n");

  const auto seen = h.seen().size();
  auto neither = h.run_with_server({"rollout", "plan"});
  CHECK(neither.exit_code == 2);
  CHECK(neither.err == "error: give either a rollout NAME or -f SPEC, not both or neither\n");
  CHECK(h.run_with_server({"rollout", "plan", "k8s-1-32", "-f", "x.json"}).exit_code == 2);
  auto unreadable = h.run_with_server({"rollout", "plan", "-f", (h.dir() / "none.yaml").string()});
  CHECK(unreadable.exit_code == 2);
  CHECK_THAT(unreadable.err, Catch::StartsWith("error: cannot read \""));
  auto list = h.run_with_server({"rollout", "plan", "-f", write_file(h, "list.yaml", "- a\n- b\n")});
  CHECK(list.exit_code == 2);
  CHECK_THAT(list.err, Catch::EndsWith("list.yaml\" does not hold an object\n"));
  CHECK(h.seen().size() == seen);
}

TEST_CASE("rollout create: the spec with an Idempotency-Key, a conflict names the other run", "[fleetctl][rollout]") {
  Harness h([](const SeenRequest& req) {
    if (req.method != "POST" || req.target != "/v1/rollouts")
      return json_response(404, problem("not-found", 404, "no"));
    if (json::parse(req.body)["name"] == "taken") {
      return json_response(409, problem("conflict", 409, "cluster aks-1 is already in active run k8s-1-31"));
    }
    json created = running_run();
    created["state"] = "Pending";
    return json_response(201, created.dump());
  });
  const auto spec = write_file(h, "run.json", R"({"name": "k8s-1-32", "target": {"type": "Full"}})");
  auto r = h.run_with_server({"rollout", "create", "-f", spec});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "rollout/k8s-1-32 created (Pending)\n");
  const auto key = h.seen().back().headers.at("Idempotency-Key");
  CHECK(key.size() == 32);
  CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(h.seen().back().headers.at("Content-Type") == "application/json");

  auto keyed = h.run_with_server({"rollout", "create", "-f", spec, "--idempotency-key", "ci-run-42", "-o", "json"});
  REQUIRE(keyed.exit_code == 0);
  CHECK(h.seen().back().headers.at("Idempotency-Key") == "ci-run-42");
  CHECK(json::parse(keyed.out)["state"] == "Pending");

  auto taken = h.run_with_server({"rollout", "create", "-f", write_file(h, "taken.yaml", "name: taken\n")});
  CHECK(taken.exit_code == 4);
  CHECK(taken.out.empty());
  CHECK(taken.err == "Error from server (conflict): cluster aks-1 is already in active run k8s-1-31\n");

  auto no_name = h.run_with_server({"rollout", "create", "-f", write_file(h, "anon.yaml", "target: {type: Full}\n")});
  CHECK(no_name.exit_code == 2);
  CHECK(no_name.err == "error: the run spec has no \"name\"\n");
  auto no_file = h.run_with_server({"rollout", "create"});
  CHECK(no_file.exit_code == 2);
  CHECK_THAT(no_file.err, Catch::StartsWith("--filename is required"));
}

TEST_CASE("rollout start|pause|resume|abort|retry|rollback post the action with the reason, if any",
          "[fleetctl][rollout]") {
  Harness h([](const SeenRequest& req) {
    if (req.method == "POST" && req.target.rfind("/v1/rollouts/k8s-1-32:", 0) == 0) {
      json run = running_run();
      if (req.target.ends_with(":pause")) run["state"] = "Paused";
      if (req.target.ends_with(":abort")) run["state"] = "Aborted";
      return json_response(200, run.dump());
    }
    return json_response(404, problem("not-found", 404, "rollout other not found"));
  });
  auto start = h.run_with_server({"rollout", "start", "k8s-1-32", "--reason", "CAB-1234 approved"});
  REQUIRE(start.exit_code == 0);
  CHECK(start.out == "rollout/k8s-1-32 started (Running)\n");
  CHECK(h.seen().back().target == "/v1/rollouts/k8s-1-32:start");
  CHECK(json::parse(h.seen().back().body) == json{{"reason", "CAB-1234 approved"}});

  auto pause = h.run_with_server({"rollout", "pause", "k8s-1-32"});
  CHECK(pause.out == "rollout/k8s-1-32 paused (Paused)\n");
  CHECK(h.seen().back().body.empty());  // no reason: no body at all
  CHECK(h.seen().back().headers.count("Content-Type") == 0);
  CHECK(h.run_with_server({"rollout", "resume", "k8s-1-32"}).out == "rollout/k8s-1-32 resumed (Running)\n");
  CHECK(h.seen().back().target == "/v1/rollouts/k8s-1-32:resume");
  auto abort = h.run_with_server({"rollout", "abort", "k8s-1-32", "--reason", "bad image"});
  CHECK(abort.out == "rollout/k8s-1-32 aborted (Aborted)\n");
  CHECK(json::parse(h.seen().back().body) == json{{"reason", "bad image"}});
  auto retry = h.run_with_server({"rollout", "retry", "k8s-1-32"});
  CHECK(retry.out == "rollout/k8s-1-32 retrying failed and skipped members (Running)\n");
  CHECK(h.seen().back().target == "/v1/rollouts/k8s-1-32:retry");
  CHECK(h.seen().back().body.empty());
  auto rollback = h.run_with_server({"rollout", "rollback", "k8s-1-32", "--cluster", "aks-1", "--reason", "p99"});
  CHECK(rollback.out == "rollout/k8s-1-32 rolled back on aks-1 (Running)\n");
  CHECK(h.seen().back().target == "/v1/rollouts/k8s-1-32:rollback");
  CHECK(json::parse(h.seen().back().body) == json{{"cluster", "aks-1"}, {"reason", "p99"}});
  CHECK(h.run_with_server({"rollout", "rollback", "k8s-1-32"}).out == "rollout/k8s-1-32 rolled back (Running)\n");
  CHECK(json::parse(h.seen().back().body) == json::object());
  auto as_yaml = h.run_with_server({"rollout", "start", "k8s-1-32", "-o", "yaml"});
  CHECK_THAT(as_yaml.out, Catch::Contains("name: k8s-1-32\n"));

  auto other = h.run_with_server({"rollout", "start", "other"});
  CHECK(other.exit_code == 3);
  CHECK(other.err == "Error from server (not-found): rollout other not found\n");

  const auto seen = h.seen().size();
  for (const char* verb : {"start", "pause", "resume", "abort", "retry"}) {
    auto missing = h.run_with_server({"rollout", verb});
    CHECK(missing.exit_code == 2);
    CHECK(missing.err == "name is required\nRun with --help for more information.\n");
  }
  CHECK(h.seen().size() == seen);
}

TEST_CASE("rollout skip takes exactly one target, approve names a gate", "[fleetctl][rollout]") {
  Harness h([](const SeenRequest& req) {
    if (req.method == "POST") return json_response(200, running_run().dump());
    return json_response(404, problem("not-found", 404, "no"));
  });
  auto member = h.run_with_server({"rollout", "skip", "k8s-1-32", "--member", "arc-2", "--reason", "decommissioned"});
  REQUIRE(member.exit_code == 0);
  CHECK(member.out == "rollout/k8s-1-32 skipped member \"arc-2\" (Running)\n");
  CHECK(h.seen().back().target == "/v1/rollouts/k8s-1-32:skip");
  CHECK(json::parse(h.seen().back().body) == json{{"member", "arc-2"}, {"reason", "decommissioned"}});
  for (const auto& [flag, key, value] :
       {std::tuple<const char*, const char*, const char*>{"--group", "group", "waves/wave1"},
        {"--stage", "stage", "waves"},
        {"--gate", "gate", "sre-signoff"},
        {"--wait", "wait", "canary"}}) {
    auto r = h.run_with_server({"rollout", "skip", "k8s-1-32", flag, value});
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(h.seen().back().body) == json{{key, value}});
  }
  auto approve = h.run_with_server({"rollout", "approve", "k8s-1-32", "--gate", "sre-signoff"});
  REQUIRE(approve.exit_code == 0);
  CHECK(approve.out == "rollout/k8s-1-32 gate \"sre-signoff\" approved (Running)\n");
  CHECK(h.seen().back().target == "/v1/rollouts/k8s-1-32:approve");
  CHECK(json::parse(h.seen().back().body) == json{{"gate", "sre-signoff"}});

  const auto seen = h.seen().size();
  auto two = h.run_with_server({"rollout", "skip", "k8s-1-32", "--member", "arc-2", "--stage", "waves"});
  CHECK(two.exit_code == 2);
  CHECK(two.err == "error: give exactly one of --member, --group, --stage, --gate or --wait\n");
  auto none = h.run_with_server({"rollout", "skip", "k8s-1-32", "--reason", "why"});
  CHECK(none.exit_code == 2);
  CHECK(none.err == two.err);
  auto group = h.run_with_server({"rollout", "skip", "k8s-1-32", "--group", "wave1"});
  CHECK(group.exit_code == 2);
  CHECK(group.err == "error: --group takes STAGE/GROUP, got \"wave1\"\n");
  auto no_name = h.run_with_server({"rollout", "skip", "--member", "arc-2"});
  CHECK(no_name.exit_code == 2);
  CHECK(no_name.err == "name is required\nRun with --help for more information.\n");
  auto no_gate = h.run_with_server({"rollout", "approve", "k8s-1-32"});
  CHECK(no_gate.exit_code == 2);
  CHECK(no_gate.err == "--gate is required\nRun with --help for more information.\n");
  CHECK(h.seen().size() == seen);

  Harness refused([](const SeenRequest&) {
    return json_response(422, problem("invalid", 422, "gate sre-signoff is not open", "gate"));
  });
  auto closed = refused.run_with_server({"rollout", "approve", "k8s-1-32", "--gate", "sre-signoff"});
  CHECK(closed.exit_code == 1);
  CHECK(closed.err == "Error from server (invalid): gate sre-signoff is not open\n");
}

TEST_CASE("rollout events follows continue pages, --limit stops early", "[fleetctl][rollout]") {
  auto event = [](int seq, const std::string& scope, const std::string& name, const std::string& from,
                  const std::string& to, const std::string& message) {
    return json{{"seq", seq},        {"at", "2026-11-23T11:0" + std::to_string(seq) + ":00.000Z"},
                {"scope", scope},    {"name", name},
                {"from", from},      {"to", to},
                {"message", message}};
  };
  Harness h([&](const SeenRequest& req) {
    if (req.target.rfind("/v1/rollouts/k8s-1-32/events?", 0) != 0) {
      return json_response(404, problem("not-found", 404, "rollout nope not found"));
    }
    if (req.target.find("continue=") == std::string::npos) {
      return json_response(200, json{{"items",
                                      {event(1, "run", "k8s-1-32", "Pending", "Running", "started by alice"),
                                       event(2, "stage", "canary", "NotStarted", "Running", "")}},
                                     {"continue", "p/2"}}
                                    .dump());
    }
    return json_response(
        200, json{{"items", {event(3, "member", "aks-1", "Pending", "Upgrading", "1.31.4 → 1.32.7")}}}.dump());
  });
  auto r = h.run_with_server({"rollout", "events", "k8s-1-32"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "AT                         SCOPE    NAME       FROM         TO          MESSAGE\n"
        "2026-11-23T11:01:00.000Z   run      k8s-1-32   Pending      Running     started by alice\n"
        "2026-11-23T11:02:00.000Z   stage    canary     NotStarted   Running\n"
        "2026-11-23T11:03:00.000Z   member   aks-1      Pending      Upgrading   1.31.4 → 1.32.7\n");
  REQUIRE(h.seen().size() == 2);
  CHECK(h.seen()[0].target == "/v1/rollouts/k8s-1-32/events?limit=500");
  CHECK(h.seen()[1].target == "/v1/rollouts/k8s-1-32/events?limit=500&continue=p%2F2");

  auto limited = h.run_with_server({"rollout", "events", "k8s-1-32", "--limit", "1", "-o", "json"});
  REQUIRE(limited.exit_code == 0);
  CHECK(h.seen().back().target == "/v1/rollouts/k8s-1-32/events?limit=1");
  CHECK(json::parse(limited.out) ==
        json{{"items", {event(1, "run", "k8s-1-32", "Pending", "Running", "started by alice")}}});
  CHECK(h.run_with_server({"rollout", "events", "k8s-1-32", "--limit", "0"}).exit_code == 2);
  CHECK(h.run_with_server({"rollout", "events", "nope"}).exit_code == 3);
}

TEST_CASE("rollout status: gates, a progress bar per stage and a line per cluster", "[fleetctl][rollout]") {
  Harness h(ScriptedRun{{answer(running_run())}});
  auto r = h.run_with_server({"rollout", "status", "k8s-1-32"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == kRunningStatus);
  CHECK(h.run_with_server({"describe", "rollout", "k8s-1-32"}).out == kRunningStatus);
  auto as_json = h.run_with_server({"rollout", "status", "k8s-1-32", "-o", "json"});
  CHECK(json::parse(as_json.out) == running_run());
  auto missing = h.run_with_server({"rollout", "status", "nope"});
  CHECK(missing.exit_code == 3);
  CHECK(h.run_with_server({"rollout", "status"}).exit_code == 2);
  auto watch_json = h.run_with_server({"rollout", "status", "k8s-1-32", "--watch", "-o", "json"});
  CHECK(watch_json.exit_code == 2);
  CHECK(watch_json.err == "error: --watch draws the status; it cannot be combined with -o json or yaml\n");
}

TEST_CASE("rollout status: a member waiting for its maintenance window", "[fleetctl][rollout][window]") {
  json waiting = run_member("arc-2", "wave1", "WaitingForWindow", 1, "control plane → 1.32.7");
  waiting["message"] =
      "outside its maintenance window (maintenanceWindows[0]: Sat,Sun 02:00 for 4h Europe/Berlin); it opens at "
      "2026-11-28T01:00:00.000Z";
  json run_counts = counts(1, 1, 0, 0);
  run_counts["waitingForWindow"] = 1;
  const json run =
      sample_run("Running", "stage waves running", run_counts, "Running",
                 run_member("arc-1", "wave1", "Upgrading", 2, "pool gpu → 1.32.7 (4 nodes)", 900), waiting);
  Harness h(ScriptedRun{{answer(run)}});
  auto r = h.run_with_server({"rollout", "status", "k8s-1-32"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("Progress:  1/3 succeeded, 1 upgrading, 0 probing, 0 failed, 0 skipped, 0 "
                                    "pending, 1 waiting for their window\n"));
  CHECK_THAT(r.out, Catch::Contains("  arc-2     WaitingForWindow   -                                 outside its "
                                    "maintenance window (maintenanceWindows[0]: Sat,Sun 02:00 for 4h "
                                    "Europe/Berlin); it opens at 2026-11-28T01:00:00.000Z\n"));
  // Without any waiting member the line is as before (kRunningStatus).
  CHECK(h.run_with_server({"rollout", "status", "k8s-1-32", "-o", "json"}).exit_code == 0);
}

TEST_CASE("rollout status: a member stopped between steps when its window closed shows the steps done",
          "[fleetctl][rollout][window]") {
  json stopped = run_member("arc-2", "wave1", "WaitingForWindow", 2, "pool gpu → 1.32.7 (4 nodes)");
  stopped["message"] =
      "step 1/3 done after its maintenance window closed (maintenanceWindows[0]: Sat,Sun 02:00 for 4h "
      "Europe/Berlin); step 2 waits for it to open at 2026-11-28T01:00:00.000Z";
  json run_counts = counts(1, 1, 0, 0);
  run_counts["waitingForWindow"] = 1;
  const json run =
      sample_run("Running", "stage waves running", run_counts, "Running",
                 run_member("arc-1", "wave1", "Upgrading", 2, "pool gpu → 1.32.7 (4 nodes)", 900), stopped);
  Harness h(ScriptedRun{{answer(run)}});
  auto r = h.run_with_server({"rollout", "status", "k8s-1-32"});
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("  arc-2     WaitingForWindow   1/3 done                          step 1/3 done "
                                    "after its maintenance window closed"));
}

TEST_CASE("rollout status --watch without a TTY prints only the lines that changed", "[fleetctl][rollout]") {
  Harness h(ScriptedRun{{answer(running_run()), answer(probing_run()), answer(completed_run())}});
  std::vector<std::chrono::milliseconds> slept;
  h.env().sleep = [&](std::chrono::milliseconds d) { slept.push_back(d); };
  auto r = h.run_with_server({"rollout", "status", "k8s-1-32", "--watch"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == std::string(kRunningStatus) +
                     // second read: arc-1 probes; the columns widen and narrow, which is no change
                     "Progress:  1/3 succeeded, 0 upgrading, 1 probing, 0 failed, 0 skipped, 1 pending\n"
                     "ETA:       10m\n"
                     "  arc-1     Probing   3/3 gpu-probe on 4 nodes   ETA 1m\n"
                     // third read: done
                     "State:     Completed\n"
                     "Message:   all clusters upgraded\n"
                     "Finished:  2026-11-23T11:50:00.000Z\n"
                     "Progress:  3/3 succeeded, 0 upgrading, 0 probing, 0 failed, 0 skipped, 0 pending\n"
                     "Stage waves    Completed   [##########] 2/2\n"
                     "  arc-1     Succeeded   3/3    done\n"
                     "  arc-2     Succeeded   3/3    done\n");
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(slept == std::vector<std::chrono::milliseconds>(2, std::chrono::milliseconds(2000)));
  CHECK(h.seen().size() == 3);
}

TEST_CASE("rollout status --watch on a TTY redraws in place", "[fleetctl][rollout]") {
  Harness h(ScriptedRun{{answer(running_run()), answer(probing_run()), answer(completed_run())}});
  h.env().stdout_is_tty = true;
  auto r = h.run_with_server({"rollout", "status", "k8s-1-32", "--watch"});
  REQUIRE(r.exit_code == 0);
  const auto frame = [](const json& run) { return join_lines(rollout_status_lines(run)); };
  const auto height = [](const json& run) { return std::to_string(rollout_status_lines(run).size()); };
  CHECK(frame(running_run()) == kRunningStatus);
  CHECK(r.out == frame(running_run()) + "\x1b[" + height(running_run()) + "A\r\x1b[J" + frame(probing_run()) + "\x1b[" +
                     height(probing_run()) + "A\r\x1b[J" + frame(completed_run()));
}

TEST_CASE("rollout status --watch: Failed and Aborted exit 7, a 503 is retried, a 404 ends it", "[fleetctl][rollout]") {
  json failed = running_run();
  failed["state"] = "Failed";
  failed["message"] = "stage waves: 1 of 2 clusters failed (maxFailures 0)";
  failed["stages"][1]["members"][0] = run_member("arc-1", "wave1", "Failed", 2, "pool gpu → 1.32.7 (4 nodes)");
  failed["stages"][1]["members"][0]["message"] = "node gpu-2 failed admission: hbm_bandwidth";
  failed["stages"][1]["members"][0]["attempt"] = 2;
  auto unavailable = [](const SeenRequest&) {
    return json_response(503, problem("unavailable", 503, "the database is unavailable"));
  };
  Harness h(ScriptedRun{{answer(running_run()), unavailable, answer(failed)}});
  int sleeps = 0;
  h.env().sleep = [&](std::chrono::milliseconds) { ++sleeps; };
  auto r = h.run_with_server({"rollout", "status", "k8s-1-32", "--watch"});
  CHECK(r.exit_code == 7);
  CHECK(sleeps == 2);
  CHECK(r.err == "warning: Error from server (unavailable): the database is unavailable; retrying\n");
  CHECK_THAT(r.out, Catch::Contains("State:     Failed\n"));
  CHECK_THAT(r.out,
             Catch::Contains("  arc-1     Failed    2/3 pool gpu → 1.32.7 (4 nodes)   attempt 2, node gpu-2 failed "
                             "admission: hbm_bandwidth\n"));

  json aborted = running_run();
  aborted["state"] = "Aborted";
  Harness a(ScriptedRun{{answer(aborted)}});
  CHECK(a.run_with_server({"rollout", "status", "k8s-1-32", "--watch"}).exit_code == 7);

  Harness gone(ScriptedRun{{answer(running_run()), [](const SeenRequest&) {
                              return json_response(404, problem("not-found", 404, "rollout k8s-1-32 not found"));
                            }}});
  auto g = gone.run_with_server({"rollout", "status", "k8s-1-32", "--watch"});
  CHECK(g.exit_code == 3);
  CHECK(g.err == "Error from server (not-found): rollout k8s-1-32 not found\n");

  Harness down(ScriptedRun{{unavailable}});
  auto d = down.run_with_server({"rollout", "status", "k8s-1-32", "--watch"});
  CHECK(d.exit_code == 6);
  CHECK(down.seen().size() == 5);
}

TEST_CASE("get rollouts and get strategies", "[fleetctl][rollout]") {
  json node_image = completed_run();
  node_image["name"] = "images-dec";
  node_image["target"] = {{"type", "NodeImageOnly"}, {"nodeImageSelection", "Consistent"}};
  node_image["counts"]["failed"] = 1;
  node_image["createdAt"] = "2026-11-21T12:00:00.000Z";
  node_image.erase("strategyRef");
  Harness h([&](const SeenRequest& req) {
    if (req.target == "/v1/rollouts?limit=500")
      return json_response(200, json{{"items", {running_run(), node_image}}}.dump());
    if (req.target == "/v1/rollouts/k8s-1-32") return json_response(200, running_run().dump());
    if (req.target == "/v1/strategies?limit=500") {
      return json_response(200, json{{"items",
                                      {{{"name", "standard"},
                                        {"stages", {{{"name", "canary"}}, {{"name", "waves"}}}},
                                        {"createdAt", "2026-11-16T12:00:00.000Z"}}}}}
                                    .dump());
    }
    return json_response(404, problem("not-found", 404, "no"));
  });
  auto r = h.run_with_server({"get", "rollouts"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "NAME         STATE       TARGET                     PROGRESS   FAILED   AGE\n"
        "k8s-1-32     Running     Full 1.32.7                1/3        0        1h\n"
        "images-dec   Completed   NodeImageOnly Consistent   3/3        1        2d\n");
  auto wide = h.run_with_server({"get", "rollouts", "-o", "wide"});
  CHECK_THAT(wide.out, Catch::Contains("STRATEGY   MESSAGE\n"));
  CHECK_THAT(wide.out, Catch::Contains("<inline>   all clusters upgraded\n"));
  auto one = h.run_with_server({"get", "rollout", "k8s-1-32", "-o", "json"});
  CHECK(json::parse(one.out) == running_run());

  auto strategies = h.run_with_server({"get", "strategies"});
  REQUIRE(strategies.exit_code == 0);
  CHECK(strategies.out ==
        "NAME       STAGES         AGE\n"
        "standard   canary,waves   7d\n");
}

TEST_CASE("get and delete auto-upgrade profiles", "[fleetctl][rollout]") {
  const json stable = {
      {"name", "stable-prod"},
      {"channel", "Stable"},
      {"provider", "aks"},
      {"strategyRef", "standard"},
      {"nodeImageSelection", "Latest"},
      {"enabled", true},
      {"startRuns", true},
      {"createdAt", "2026-11-16T12:00:00.000Z"},
      {"status",
       {{"selectedRelease", {{"key", "1.32.7"}}}, {"lastRelease", "1.32.7"}, {"lastRollout", "stable-prod-1-32-7"}}}};
  const json pinned = {
      {"name", "pinned"},
      {"channel", "TargetKubernetesVersion"},
      {"targetKubernetesVersion", "1.33"},
      {"provider", "aks"},
      {"strategyRef", "standard"},
      {"enabled", false},
      {"startRuns", false},
      {"createdAt", "2026-11-22T12:00:00.000Z"},
      {"status",
       {{"selectedRelease", nullptr},
        {"lastError", "release 1.33.5: run pinned-1-33-5 not created: only one run may act on a cluster"}}}};
  Harness h([&](const SeenRequest& req) {
    if (req.target == "/v1/auto-upgrade-profiles?limit=500")
      return json_response(200, json{{"items", {stable, pinned}}}.dump());
    if (req.target == "/v1/auto-upgrade-profiles/pinned" && req.method == "GET")
      return json_response(200, pinned.dump());
    if (req.target == "/v1/auto-upgrade-profiles/pinned" && req.method == "DELETE")
      return http::ClientResponse{204, {}, ""};
    return json_response(404, problem("not-found", 404, "auto-upgrade profile \"gone\" not found"));
  });
  auto r = h.run_with_server({"get", "auto-upgrade-profiles"});
  REQUIRE(r.exit_code == 0);
  CHECK(
      r.out ==
      "NAME          CHANNEL                        STRATEGY   ENABLED            SELECTED   LAST-RUN             AGE  "
      " ERROR\n"
      "stable-prod   Stable                         standard   yes, starts runs   1.32.7     stable-prod-1-32-7   7d   "
      " -\n"
      "pinned        TargetKubernetesVersion 1.33   standard   no                 -          -                    1d   "
      " yes\n");
  auto one = h.run_with_server({"get", "auto-upgrade-profile", "pinned", "-o", "json"});
  CHECK(json::parse(one.out) == pinned);
  auto deleted = h.run_with_server({"delete", "auto-upgrade-profile", "pinned"});
  CHECK(deleted.exit_code == 0);
  CHECK(deleted.out == "auto-upgrade-profile \"pinned\" deleted (the runs it created stay)\n");
  auto missing = h.run_with_server({"delete", "auto-upgrade-profile", "gone"});
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.err, Catch::Contains("not found"));
}

TEST_CASE("estimate_text and progress_bar", "[fleetctl][rollout]") {
  CHECK(estimate_text(45) == "45s");
  CHECK(estimate_text(750) == "12m30s");
  CHECK(estimate_text(3600) == "1h");
  CHECK(estimate_text(93600) == "1d2h");
  CHECK(estimate_text(nullptr) == "-");
  CHECK(progress_bar(12, 20) == "[######----] 12/20");
  CHECK(progress_bar(0, 0) == "[----------] 0/0");
  CHECK(progress_bar(20, 20) == "[##########] 20/20");
}

}  // namespace fleet::ctl
