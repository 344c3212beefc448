// The agent's runtime pieces that need no server: backoff, the latency histogram, the state file, the sim
// backend on a hand-driven clock, and how fleetd's answers become errors. The protocol loop itself runs against a
// real fleetd in integration-tests/fleet_sim_test.cpp.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "agents/agent_client.hpp"
#include "agents/agent_runner.hpp"
#include "agents/agent_state.hpp"
#include "agents/backoff.hpp"
#include "agents/latency_histogram.hpp"
#include "agents/sim_backend.hpp"
#include "agents/testing/start_command.hpp"

namespace fleet::agent {
namespace {

namespace fs = std::filesystem;
using ::fleet::agent::testing::command_of;
using ::fleet::agent::testing::start_command;
using std::chrono::milliseconds;

struct ScratchDir {
  ScratchDir() : path(fs::temp_directory_path() / ("agent-runtime-test-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  fs::path path;
};

ClusterSpec gpu_cluster() {
  ClusterSpec c;
  c.name = "aks-test-1";
  c.pools.push_back(make_pool("system", 2, 8, 32));
  c.pools.push_back(make_pool("gpu", 3, 96, 1024, GpuSpec{"NVIDIA H100 80GB HBM3", 8, 80, "550.90.07", "12.4"}));
  return c;
}

}  // namespace

TEST_CASE("backoff grows exponentially up to its cap, with jitter below the ceiling", "[agent][runtime]") {
  Backoff b(milliseconds(100), milliseconds(5000), 42);
  for (int n = 0; n < 12; ++n) {
    auto wait = b.next();
    const auto ceiling = std::min<std::int64_t>(5000, 100LL << n);
    CHECK(wait.count() >= 10);
    CHECK(wait.count() <= ceiling);
  }
  CHECK(b.failures() == 12);
  b.reset();
  CHECK(b.failures() == 0);
  CHECK(b.next().count() <= 100);
  // Two agents with different seeds do not retry in lockstep.
  Backoff x(milliseconds(1000), milliseconds(30000), 1), y(milliseconds(1000), milliseconds(30000), 2);
  std::set<std::int64_t> differ;
  for (int n = 0; n < 8; ++n) differ.insert(x.next().count() - y.next().count());
  CHECK(differ.size() > 1);
}

TEST_CASE("the latency histogram reads percentiles within 5 percent", "[agent][runtime]") {
  LatencyHistogram h;
  CHECK(h.quantile_micros(0.5) == 0);
  for (int i = 1; i <= 1000; ++i) h.record(i * 100);  // 0.1 ms … 100 ms, uniform
  CHECK(h.count() == 1000);
  CHECK(h.quantile_micros(0.50) == Approx(50'000).epsilon(0.05));
  CHECK(h.quantile_micros(0.99) == Approx(99'000).epsilon(0.05));
  CHECK(h.quantile_micros(1.0) >= 100'000);
  h.record(-5);  // a clock oddity lands in the first bucket, not out of range
  h.record(std::int64_t{1} << 50);
  CHECK(h.count() == 1002);
}

TEST_CASE("the state file round-trips with mode 0600 and rejects a damaged file", "[agent][runtime]") {
  ScratchDir dir;
  const std::string path = (dir.path / "state.json").string();
  auto missing = load_agent_state(path);
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());

  AgentState st{"https://fleet.example:8443", {{"aks-1", "cred-1"}, {"arc-2", "cred-2"}}};
  REQUIRE(save_agent_state(path, st).ok());
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  auto loaded = load_agent_state(path);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  CHECK((*loaded)->server == st.server);
  CHECK((*loaded)->credentials == st.credentials);
  CHECK_FALSE(fs::exists(path + ".tmp"));

  // A file left world-readable by someone else becomes 0600 on the next save.
  ::chmod(path.c_str(), 0644);
  REQUIRE(save_agent_state(path, st).ok());
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);

  for (const char* bad : {"not json", "[]", R"({"agents": {}})", R"({"server": "x", "agents": {"a": 5}})"}) {
    std::ofstream(path, std::ios::trunc) << bad;
    auto r = load_agent_state(path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("remove it to register again") != std::string::npos);
  }
}

TEST_CASE("the sim backend runs commands on the clock it is given", "[agent][runtime]") {
  double now = 0;
  SimBackend backend(SimCluster(gpu_cluster(), SimOptions{Durations{}, FaultRates{}, 3}), [&now] { return now; });
  CHECK(backend.name() == "sim");
  auto inv = backend.inventory();
  REQUIRE(inv.ok());
  CHECK(inv->nodes.size() == 5);
  CHECK_FALSE(backend.seconds_until_due().has_value());

  protocol::Command cmd = command_of(
      "up-1", "upgrade_node_pool", {{"pool", "gpu"}, {"nodeImageVersion", "AKSUbuntu-2204gen2containerd-202511.01.0"}});
  auto started = backend.start(cmd);
  REQUIRE(started.ok());
  CHECK(started->started);
  REQUIRE(backend.seconds_until_due().has_value());
  // Nothing moves until the clock does.
  CHECK(backend.status("up-1")->state == protocol::CommandState::kRunning);
  int finished = 0;
  for (int step = 0; step < 10000 && backend.status("up-1")->state == protocol::CommandState::kRunning; ++step) {
    now += 30;
    for (const auto& e : backend.poll()) finished += e.type == "command_succeeded" ? 1 : 0;
  }
  CHECK(finished == 1);
  CHECK(backend.status("up-1")->state == protocol::CommandState::kSucceeded);
  CHECK(backend.status("up-1")->nodes_done == 3);
  // A re-delivered command is answered from the stored result, not run again.
  auto again = backend.start(cmd);
  REQUIRE(again.ok());
  CHECK_FALSE(again->started);
  CHECK(again->status.state == protocol::CommandState::kSucceeded);
  CHECK(backend.poll().empty());
  CHECK_FALSE(start_command(backend, "bad", "no_such_kind", nlohmann::json::object()).ok());
}

TEST_CASE("fleetd's answers map to error codes the agent loop acts on", "[agent][runtime]") {
  auto e = error_from_status(503, R"({"type":"urn:fleetd:problem:unavailable","detail":"database down"})", "POST /x");
  CHECK(e.code == ErrorCode::kUnavailable);
  CHECK(e.message == "POST /x: HTTP 503: database down");
  CHECK(error_from_status(429, "", "GET /y").code == ErrorCode::kUnavailable);
  CHECK(error_from_status(401, "{}", "GET /y").code == ErrorCode::kUnauthenticated);
  CHECK(error_from_status(403, "{}", "GET /y").code == ErrorCode::kForbidden);
  CHECK(error_from_status(404, "{}", "GET /y").code == ErrorCode::kNotFound);
  CHECK(error_from_status(422, "not json", "GET /y").message == "GET /y: HTTP 422: not json");

  protocol::CommandStatus s;
  s.id = "c1";
  s.kind = "cordon_cluster";
  s.state = protocol::CommandState::kSucceeded;
  s.message = "cordoned";
  auto r = protocol::report_for(s);
  CHECK(r.id == "c1");
  CHECK(r.state == protocol::CommandState::kSucceeded);
  CHECK((*r.progress)["kind"] == "cordon_cluster");
}

}  // namespace fleet::agent

namespace fleet::agent {

TEST_CASE("a heartbeat fleetd refused is sent again under the same sequence", "[agent][runtime]") {
  auto inv = initial_inventory(gpu_cluster(), 3);
  protocol::HeartbeatSender sender("1.0");
  auto first = sender.next(inv);
  REQUIRE(first.full);
  inv.nodes[0].schedulable = false;
  auto second = sender.next(inv);
  REQUIRE(second.sequence == 2);
  REQUIRE(second.delta->changed.size() == 1);
  sender.not_applied();  // fleetd answered 503: it applied nothing
  inv.nodes[1].schedulable = false;
  auto retry = sender.next(inv);
  CHECK(retry.sequence == 2);
  REQUIRE(retry.delta);
  CHECK(retry.delta->changed.size() == 2);  // both changes, on the base fleetd has
  // A refused first (full) heartbeat stays full.
  protocol::HeartbeatSender fresh("1.0");
  (void)fresh.next(inv);
  fresh.not_applied();
  CHECK(fresh.next(inv).full);
  CHECK(fresh.last_sequence() == 1);
}

}  // namespace fleet::agent
