// Durability and concurrency: restarts, kill -9 mid-burst, two fleetd on one database.
#include <signal.h>

#include <catch2/catch.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "fleetd/testing/temp_postgres.hpp"
#include "integration-tests/fleetd_process.hpp"

using namespace fleet::itest;
using nlohmann::json;

namespace {
std::string body(const std::string& name) {
  return json{{"name", name}, {"provider", "arc"}, {"labels", {{"site", "edge"}}}}.dump();
}
}  // namespace

TEST_CASE("data survives a clean restart, and SIGTERM stops fleetd and its PostgreSQL", "[integration][durability]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  REQUIRE(fleetd.call("POST", "/v1/clusters", body("keep-me")).status == 201);
  REQUIRE(fleetd.terminate() == 0);
  // The embedded server is gone with it: no postmaster.pid left behind.
  REQUIRE_FALSE(std::filesystem::exists(dir.path() / "data" / "pg" / "postmaster.pid"));
  fleetd.restart();
  auto c = fleetd.call_json("GET", "/v1/clusters/keep-me");
  REQUIRE(c["labels"]["site"] == "edge");
}

TEST_CASE("kill -9 during a burst of writes loses no acknowledged write", "[integration][durability]") {
  TempDir dir;
  FleetdProcess fleetd(FleetdOptions(dir.path() / "data"));
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      auto client = fleet::http::Client::create([&] {
        fleet::http::ClientOptions o;
        o.base_url = fleetd.base_url();
        o.timeout = std::chrono::milliseconds(5000);
        return o;
      }());
      for (int i = 0; !stop; ++i) {
        std::string name = "burst-" + std::to_string(w) + "-" + std::to_string(i);
        auto r = (*client)->request(
            "POST", "/v1/clusters",
            {{"authorization", "Bearer " + fleetd.admin_token()}, {"content-type", "application/json"}}, body(name));
        if (!r) break;  // fleetd is gone
        if (r->status == 201) {
          std::lock_guard lock(mu);
          acknowledged.insert(name);
        }
      }
    });
  }
  // Let the burst run until a few hundred writes are acknowledged, then kill fleetd mid-flight.
  for (int i = 0; i < 400; ++i) {
    {
      std::lock_guard lock(mu);
      if (acknowledged.size() >= 200) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  fleetd.kill9();
  stop = true;
  for (auto& t : writers) t.join();
  REQUIRE(acknowledged.size() >= 50);

  // Its PostgreSQL may still run: the next start adopts it (or restarts it) and serves every acknowledged write.
  fleetd.restart();
  std::set<std::string> stored;
  for (const auto& c : fleetd.list_all("/v1/clusters?limit=1000")) stored.insert(c["name"].get<std::string>());
  for (const auto& name : acknowledged) {
    INFO("acknowledged but lost: " << name);
    REQUIRE(stored.count(name) == 1);
  }
}

TEST_CASE("two fleetd on one database: consistent reads, exactly one If-Match winner", "[integration][durability]") {
  auto pg = fleet::testing::TempPostgres::start();
  REQUIRE(pg);
  std::string url = (*pg)->connection_url();
  TempDir dir;
  // Bootstrap an admin token offline, before either fleetd runs (this also applies the migrations).
  const std::string token = create_admin_token(url);

  // Two processes starting together on one database: the migration lock keeps them apart.
  FleetdOptions a(dir.path() / "a", url, {}, token);
  FleetdOptions b(dir.path() / "b", url, {}, token);
  std::unique_ptr<FleetdProcess> fa, fb;
  std::thread ta([&] { fa = std::make_unique<FleetdProcess>(a); });
  std::thread tb([&] { fb = std::make_unique<FleetdProcess>(b); });
  ta.join();
  tb.join();
  REQUIRE(fa);
  REQUIRE(fb);

  auto created = fa->call_json("POST", "/v1/clusters", body("shared"), 201);
  REQUIRE(fb->call_json("GET", "/v1/clusters/shared") == created);
  std::string rv = created["resourceVersion"];

  for (int round = 0; round < 10; ++round) {
    std::atomic<int> ok{0}, precondition{0};
    auto writer = [&](FleetdProcess& f, const std::string& value) {
      auto r = f.call("PATCH", "/v1/clusters/shared", json{{"labels", {{"winner", value}}}}.dump(),
                      {{"content-type", "application/merge-patch+json"}, {"if-match", "\"" + rv + "\""}});
      if (r.status == 200) ok++;
      if (r.status == 412) precondition++;
    };
    std::thread w1([&] { writer(*fa, "a"); });
    std::thread w2([&] { writer(*fb, "b"); });
    w1.join();
    w2.join();
    REQUIRE(ok == 1);
    REQUIRE(precondition == 1);
    auto now_a = fa->call_json("GET", "/v1/clusters/shared");
    REQUIRE(fb->call_json("GET", "/v1/clusters/shared") == now_a);
    rv = now_a["resourceVersion"];
  }
}
