#include "gpu-probe/core/check_status.hpp"

namespace fleet::gpuprobe {

std::string_view to_string(CheckStatus s) {
  switch (s) {
    case CheckStatus::kPass:
      return "pass";
    case CheckStatus::kWarn:
      return "warn";
    case CheckStatus::kFail:
      return "fail";
    case CheckStatus::kSkipped:
      return "skipped";
  }
  return "fail";
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kWarn:
      return "warn";
    case Verdict::kFail:
      return "fail";
    case Verdict::kCouldNotRun:
      return "could-not-run";
  }
  return "fail";
}

std::optional<CheckStatus> parse_check_status(std::string_view s) {
  for (auto c : {CheckStatus::kPass, CheckStatus::kWarn, CheckStatus::kFail, CheckStatus::kSkipped}) {
    if (to_string(c) == s) return c;
  }
  return std::nullopt;
}

std::optional<Verdict> parse_verdict(std::string_view s) {
  for (auto v : {Verdict::kPass, Verdict::kWarn, Verdict::kFail, Verdict::kCouldNotRun}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

namespace {
int rank(CheckStatus s) {
  switch (s) {
    case CheckStatus::kSkipped:
      return 0;
    case CheckStatus::kPass:
      return 1;
    case CheckStatus::kWarn:
      return 2;
    case CheckStatus::kFail:
      return 3;
  }
  return 3;
}
}  // namespace

CheckStatus worse(CheckStatus a, CheckStatus b) {
  return rank(a) >= rank(b) ? a : b;
}

Verdict verdict_from(CheckStatus worst_status) {
  switch (worst_status) {
    case CheckStatus::kFail:
      return Verdict::kFail;
    case CheckStatus::kWarn:
      return Verdict::kWarn;
    case CheckStatus::kPass:
    case CheckStatus::kSkipped:
      return Verdict::kPass;
  }
  return Verdict::kFail;
}

int exit_code_for(Verdict v) {
  switch (v) {
    case Verdict::kPass:
    case Verdict::kWarn:
      return 0;
    case Verdict::kFail:
      return 1;
    case Verdict::kCouldNotRun:
      return 2;
  }
  return 2;
}

}  // namespace fleet::gpuprobe
