#pragma once
#include <string>

#include "gpu-probe/core/report.hpp"

namespace fleet::gpuprobe {

// The --human rendering: one line per check, the verdict last. For people at a console; machines read the JSON.
std::string render_human(const Report& r);

}  // namespace fleet::gpuprobe
