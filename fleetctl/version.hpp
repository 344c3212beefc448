#pragma once
#include <string_view>

namespace fleet::ctl {

// The project version this fleetctl was built from (CMake's PROJECT_VERSION).
std::string_view client_version();

}  // namespace fleet::ctl
