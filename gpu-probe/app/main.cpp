// gpu-probe: wires argument parsing, the measurement backend, evaluation and output together.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>
#include <vector>

#include "common/time_format.hpp"
#include "gpu-probe/core/arg_parser.hpp"
#include "gpu-probe/core/evaluator.hpp"
#include "gpu-probe/core/human_table.hpp"
#include "gpu-probe/core/measure_plan.hpp"
#include "gpu-probe/core/probe_runner.hpp"
#include "gpu-probe/core/report_json.hpp"
#include "gpu-probe/core/version.hpp"
#include "gpu-probe/measure/backend_factory.hpp"

namespace gp = fleet::gpuprobe;

namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// Writes the report where asked; a report that cannot be written is itself a could-not-run (exit 2).
int emit(const gp::Report& report, bool human, const std::optional<std::string>& path) {
  std::string text = human ? gp::render_human(report) : gp::report_to_json(report).dump(2) + "\n";
  int code = gp::exit_code_for(report.verdict);
  if (path) {
    std::ofstream out(*path, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::cerr << "gpu-probe: cannot write " << *path << "\n";
      return 2;
    }
  } else {
    std::cout << text << std::flush;
  }
  return code;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  gp::EvaluationContext ctx;
  ctx.host = host_name();
  ctx.started_at = fleet::format_rfc3339(std::chrono::system_clock::now());

  auto parsed = gp::parse_arguments(args);
  if (!parsed) {
    std::cerr << "gpu-probe: " << parsed.error().message << "\n" << gp::usage_text();
    return emit(gp::could_not_run_report({"bad-arguments", parsed.error().message}, ctx, {}), false, std::nullopt);
  }
  const gp::ProbeOptions& options = *parsed;
  if (options.show_help) {
    std::cout << gp::usage_text();
    return 0;
  }
  if (options.show_version) {
    std::cout << "gpu-probe " << gp::kProbeVersion << " (report schema " << gp::kReportSchemaId << ")\n";
    return 0;
  }
  ctx.mode = options.mode;
  ctx.injections = options.injections;
  ctx.straggler_margin = options.straggler_margin;

  gp::SkuTable table = gp::SkuTable::built_in();
  if (options.thresholds_path) {
    auto text = read_file(*options.thresholds_path);
    fleet::Status st =
        text ? table.apply_overrides(*text)
             : fleet::Status(fleet::make_error(fleet::ErrorCode::kInvalid, "cannot read " + *options.thresholds_path));
    if (!st) {
      return emit(gp::could_not_run_report({"bad-arguments", "--thresholds: " + st.error().message}, ctx, {}),
                  options.human, options.output_path);
    }
  }

  auto backend = gp::make_measurement_backend();
  const auto clock_start = std::chrono::steady_clock::now();
  auto now_ms = [clock_start] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - clock_start).count();
  };
  gp::NodeMeasurements m = gp::run_measurements(*backend, gp::make_measure_plan(options), options.gpus, now_ms);
  ctx.expect_gpus = gp::effective_expected_gpus(options, m.env);
  return emit(gp::evaluate(m, table, ctx), options.human, options.output_path);
}
