#include <catch2/catch.hpp>

#include "gpu-probe/core/arg_parser.hpp"
#include "gpu-probe/core/evaluator.hpp"

using namespace fleet::gpuprobe;

namespace {
fleet::Result<ProbeOptions> parse(std::initializer_list<std::string_view> args) {
  std::vector<std::string_view> v(args);
  return parse_arguments(v);
}
}  // namespace

TEST_CASE("gpu-probe args: defaults are quick mode on every GPU", "[gpu-probe]") {
  auto o = parse({});
  REQUIRE(o.ok());
  CHECK(o->mode == Mode::kQuick);
  CHECK_FALSE(o->gpus);
  CHECK_FALSE(o->expect_gpus);
  CHECK_FALSE(o->human);
  CHECK(o->injections.empty());
}

TEST_CASE("gpu-probe args: every flag lands in the options", "[gpu-probe]") {
  auto o = parse({"--full", "--burn-seconds", "30", "--gpus", "0,2", "--expect-gpus", "8", "--output", "r.json",
                  "--human", "--inject", "memflip,ecc", "--inject=throttle", "--mem-fraction", "0.9", "--thresholds",
                  "t.json", "--straggler-margin=0.1"});
  REQUIRE(o.ok());
  CHECK(o->mode == Mode::kFull);
  CHECK(*o->burn_seconds == 30);
  CHECK(*o->gpus == std::vector<int>{0, 2});
  CHECK(*o->expect_gpus == 8);
  CHECK(*o->output_path == "r.json");
  CHECK(o->human);
  CHECK(o->injections == InjectionSet{Injection::kMemFlip, Injection::kEcc, Injection::kThrottle});
  CHECK(*o->mem_fraction == Approx(0.9));
  CHECK(*o->thresholds_path == "t.json");
  CHECK(*o->straggler_margin == Approx(0.1));
}

TEST_CASE("gpu-probe args: every injection name parses", "[gpu-probe]") {
  for (auto name : {"memflip", "gemm-corrupt", "slow-bandwidth", "ecc", "throttle", "missing-gpu"}) {
    auto o = parse({"--inject", name});
    REQUIRE(o.ok());
    REQUIRE(o->injections.size() == 1);
    CHECK(to_string(*o->injections.begin()) == name);
  }
}

TEST_CASE("gpu-probe args: bad arguments are errors that become exit 2", "[gpu-probe]") {
  struct Case {
    std::vector<std::string_view> args;
    std::string field;
  };
  std::vector<Case> cases = {
      {{"--bogus"}, "--bogus"},
      {{"--gpus", "a"}, "--gpus"},
      {{"--gpus", "0,0"}, "--gpus"},
      {{"--gpus", "0,"}, "--gpus"},
      {{"--gpus", "-1"}, "--gpus"},
      {{"--expect-gpus", "0"}, "--expect-gpus"},
      {{"--quick", "--full"}, "--full"},
      {{"--burn-seconds", "10"}, "--burn-seconds"},
      {{"--full", "--burn-seconds", "0"}, "--burn-seconds"},
      {{"--mem-fraction", "1.5"}, "--mem-fraction"},
      {{"--mem-fraction", "0"}, "--mem-fraction"},
      {{"--inject", "bogus"}, "--inject"},
      {{"--output"}, "--output"},
      {{"--output", "a", "--output", "b"}, "--output"},
      {{"--human=1"}, "--human"},
      {{"--straggler-margin", "1"}, "--straggler-margin"},
  };
  for (const auto& c : cases) {
    INFO(c.field);
    auto o = parse_arguments(c.args);
    REQUIRE_FALSE(o.ok());
    CHECK(o.error().code == fleet::ErrorCode::kInvalid);
    CHECK(o.error().field == c.field);
    CHECK_FALSE(o.error().message.empty());
    // main() turns the error into this report; its verdict maps to exit status 2.
    auto r = could_not_run_report({"bad-arguments", o.error().message}, {}, {});
    CHECK(r.verdict == Verdict::kCouldNotRun);
    CHECK(exit_code_for(r.verdict) == 2);
  }
}

TEST_CASE("gpu-probe args: help and version", "[gpu-probe]") {
  CHECK(parse({"--help"})->show_help);
  CHECK(parse({"-h"})->show_help);
  CHECK(parse({"--version"})->show_version);
  CHECK(usage_text().find("--inject") != std::string::npos);
}
