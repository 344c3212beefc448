#pragma once
#include <span>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "gpu-probe/core/probe_options.hpp"

namespace fleet::gpuprobe {

// Parses argv (without argv[0]). A bad argument is an Error (kInvalid, with the flag in `field`); main turns it
// into a could-not-run report and exit code 2.
fleet::Result<ProbeOptions> parse_arguments(std::span<const std::string_view> args);

std::string usage_text();

}  // namespace fleet::gpuprobe
