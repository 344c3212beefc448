#pragma once
#include <optional>
#include <string_view>

namespace fleet::gpuprobe {

// Per-check outcome. `skipped` means the check could not be measured here (no NVML, unsupported dtype); it never
// makes a verdict worse, because absence of a counter is not evidence of a fault.
enum class CheckStatus { kPass, kWarn, kFail, kSkipped };

// Overall outcome for a GPU or the node; kCouldNotRun means the probe never got to measure (exit 2).
enum class Verdict { kPass, kWarn, kFail, kCouldNotRun };

std::string_view to_string(CheckStatus s);
std::string_view to_string(Verdict v);
std::optional<CheckStatus> parse_check_status(std::string_view s);
std::optional<Verdict> parse_verdict(std::string_view s);

// fail > warn > pass > skipped.
CheckStatus worse(CheckStatus a, CheckStatus b);
Verdict verdict_from(CheckStatus worst_status);

// 0 pass (warn too: admitted, with the warning in the report), 1 fail, 2 could not run.
int exit_code_for(Verdict v);

}  // namespace fleet::gpuprobe
