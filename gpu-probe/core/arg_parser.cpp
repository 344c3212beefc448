#include "gpu-probe/core/arg_parser.hpp"

#include <charconv>
#include <cmath>
#include <set>

namespace fleet::gpuprobe {

std::string_view to_string(Mode m) {
  return m == Mode::kQuick ? "quick" : "full";
}

namespace {

fleet::Error bad(std::string flag, std::string message) {
  return fleet::make_error(fleet::ErrorCode::kInvalid, std::move(message), std::move(flag), "bad-arguments");
}

std::optional<long> parse_int(std::string_view s) {
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::string usage_text() {
  return "usage: gpu-probe [--quick | --full] [--gpus 0,2] [--expect-gpus N] [--output FILE] [--human]\n"
         "                 [--burn-seconds S] [--mem-fraction F] [--thresholds FILE] [--straggler-margin M]\n"
         "                 [--inject memflip|gemm-corrupt|slow-bandwidth|ecc|throttle|missing-gpu]...\n"
         "                 [--help] [--version]\n"
         "exit status: 0 pass (or warn), 1 fail, 2 could not run (no driver, no device, bad arguments)\n";
}

fleet::Result<ProbeOptions> parse_arguments(std::span<const std::string_view> args) {
  ProbeOptions o;
  bool saw_quick = false;
  bool saw_full = false;
  std::set<std::string_view> seen_value_flags;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view value;
    bool has_inline_value = false;
    if (arg.starts_with("--")) {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline_value = true;
      }
    }
    auto take_value = [&]() -> std::optional<std::string_view> {
      if (has_inline_value) return value;
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    auto flag = std::string(arg);
    if (arg == "--quick" || arg == "--full" || arg == "--human" || arg == "--help" || arg == "-h" ||
        arg == "--version") {
      if (has_inline_value) return bad(flag, flag + " takes no value");
      if (arg == "--quick") saw_quick = true;
      if (arg == "--full") saw_full = true;
      if (arg == "--human") o.human = true;
      if (arg == "--help" || arg == "-h") o.show_help = true;
      if (arg == "--version") o.show_version = true;
      continue;
    }
    static const std::set<std::string_view> kValueFlags = {"--gpus",       "--expect-gpus",     "--output",
                                                           "--inject",     "--burn-seconds",    "--mem-fraction",
                                                           "--thresholds", "--straggler-margin"};
    if (!kValueFlags.count(arg)) return bad(flag, "unknown argument '" + std::string(args[i]) + "'");
    auto v = take_value();
    if (!v || v->empty()) return bad(flag, flag + " needs a value");
    if (arg != "--inject" && !seen_value_flags.insert(arg).second) return bad(flag, flag + " given twice");

    if (arg == "--gpus") {
      std::vector<int> gpus;
      for (auto part : split_commas(*v)) {
        auto n = parse_int(part);
        if (!n || *n < 0 || *n > 1023)
          return bad(flag, "--gpus wants comma-separated device indices, got '" + std::string(*v) + "'");
        for (int g : gpus) {
          if (g == *n) return bad(flag, "--gpus lists device " + std::to_string(*n) + " twice");
        }
        gpus.push_back(static_cast<int>(*n));
      }
      o.gpus = std::move(gpus);
    } else if (arg == "--expect-gpus") {
      auto n = parse_int(*v);
      if (!n || *n < 1 || *n > 1024) return bad(flag, "--expect-gpus wants a count of at least 1");
      o.expect_gpus = static_cast<int>(*n);
    } else if (arg == "--output") {
      o.output_path = std::string(*v);
    } else if (arg == "--inject") {
      for (auto part : split_commas(*v)) {
        auto inj = parse_injection(part);
        if (!inj) return bad(flag, "unknown fault to inject '" + std::string(part) + "'");
        o.injections.insert(*inj);
      }
    } else if (arg == "--burn-seconds") {
      auto d = parse_double(*v);
      if (!d || *d < 1 || *d > 86400) return bad(flag, "--burn-seconds wants 1..86400 seconds");
      o.burn_seconds = *d;
    } else if (arg == "--mem-fraction") {
      auto d = parse_double(*v);
      if (!d || *d <= 0 || *d > 0.98) return bad(flag, "--mem-fraction wants a fraction in (0, 0.98]");
      o.mem_fraction = *d;
    } else if (arg == "--thresholds") {
      o.thresholds_path = std::string(*v);
    } else if (arg == "--straggler-margin") {
      auto d = parse_double(*v);
      if (!d || *d <= 0 || *d >= 1) return bad(flag, "--straggler-margin wants a fraction in (0, 1)");
      o.straggler_margin = *d;
    }
  }
  if (saw_quick && saw_full) return bad("--full", "--quick and --full exclude each other");
  if (saw_full) o.mode = Mode::kFull;
  if (o.burn_seconds && o.mode != Mode::kFull) return bad("--burn-seconds", "--burn-seconds needs --full");
  return o;
}

}  // namespace fleet::gpuprobe
