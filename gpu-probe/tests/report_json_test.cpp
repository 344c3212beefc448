#include <catch2/catch.hpp>

#include "gpu-probe/core/evaluator.hpp"
#include "gpu-probe/core/human_table.hpp"
#include "gpu-probe/core/report_json.hpp"
#include "test_fixtures.hpp"

using namespace fleet::gpuprobe;
using fleet::gpuprobe::testing::healthy_node;

namespace {
Report sample_report() {
  auto m = healthy_node(2);
  m.gpus[1].memory.mismatches = 1;
  m.gpus[1].memory.first_mismatches.push_back({64, 0x7f00000040, 1, 3, "address"});
  return evaluate(m, SkuTable::built_in(), testing::context(2, std::nullopt, {Injection::kMemFlip}, "gpu-node-7"));
}
}  // namespace

TEST_CASE("gpu-probe report: schema fields", "[gpu-probe]") {
  auto j = report_to_json(sample_report());
  CHECK(j["schema"] == "fleet.gpu-probe.report/v1");
  CHECK(j["schema_version"] == 1);
  CHECK(j["probe_version"] == std::string(kProbeVersion));
  CHECK(j["host"] == "gpu-node-7");
  CHECK(j["mode"] == "quick");
  CHECK(j["verdict"] == "fail");
  CHECK(j["exit_code"] == 1);
  CHECK(j["injected"] == nlohmann::json::array({"memflip"}));
  CHECK(j["could_not_run"].is_null());
  CHECK(j["environment"]["runtime_version"] == 13000);
  REQUIRE(j["gpus"].size() == 2);
  const auto& g = j["gpus"][1];
  CHECK(g["sku"] == "h100-sxm");
  CHECK(g["compute_capability"] == "9.0");
  CHECK(g["status"] == "fail");
  for (const auto& c : g["checks"]) {
    for (const char* k : {"name", "status", "measured", "unit", "comparison", "fail_threshold", "warn_threshold",
                          "spec", "duration_ms", "message", "details"}) {
      INFO(c["name"] << " " << k);
      CHECK(c.contains(k));
    }
  }
}

TEST_CASE("gpu-probe report: JSON round trip is lossless", "[gpu-probe]") {
  auto r = sample_report();
  auto j = report_to_json(r);
  auto back = report_from_json(nlohmann::json::parse(j.dump()));
  REQUIRE(back.ok());
  CHECK(report_to_json(*back) == j);
  CHECK(back->verdict == Verdict::kFail);
  CHECK(back->gpus[1].checks.size() == r.gpus[1].checks.size());
  CHECK(back->gpus[0].device.uuid == r.gpus[0].device.uuid);
}

TEST_CASE("gpu-probe report: a could-not-run report says why", "[gpu-probe]") {
  EnvironmentInfo env;
  env.built_with_cuda = true;
  env.runtime_version = 13000;
  auto r = could_not_run_report({"no-cuda-device", "no CUDA device: no NVIDIA driver found"},
                                testing::context(std::nullopt, std::nullopt, {}, "ci"), env);
  auto j = report_to_json(r);
  CHECK(j["verdict"] == "could-not-run");
  CHECK(j["exit_code"] == 2);
  CHECK(j["could_not_run"]["code"] == "no-cuda-device");
  CHECK(j["could_not_run"]["reason"].get<std::string>().find("no CUDA device") != std::string::npos);
  CHECK(j["gpus"].empty());
  auto back = report_from_json(j);
  REQUIRE(back.ok());
  CHECK(back->could_not_run->code == "no-cuda-device");
}

TEST_CASE("gpu-probe report: readers reject other schemas and broken documents", "[gpu-probe]") {
  auto j = report_to_json(sample_report());
  auto v2 = j;
  v2["schema_version"] = 2;
  CHECK_FALSE(report_from_json(v2).ok());
  auto missing = j;
  missing.erase("verdict");
  CHECK_FALSE(report_from_json(missing).ok());
  auto bad_status = j;
  bad_status["gpus"][0]["checks"][0]["status"] = "great";
  CHECK_FALSE(report_from_json(bad_status).ok());
  auto mismatch = j;
  mismatch["exit_code"] = 0;
  CHECK_FALSE(report_from_json(mismatch).ok());
  CHECK_FALSE(report_from_json(nlohmann::json::array()).ok());
}

TEST_CASE("gpu-probe report: human table", "[gpu-probe]") {
  auto text = render_human(sample_report());
  CHECK(text.find("verdict: fail (exit 1)") != std::string::npos);
  CHECK(text.find("memory_test") != std::string::npos);
  CHECK(text.find("INJECTED FAULTS: memflip") != std::string::npos);
}
