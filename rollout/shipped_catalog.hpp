#pragma once
// The catalog fleetd ships (rollout/catalog/versions.json), compiled into the binary.
#include <string_view>

namespace fleet::rollout {

std::string_view shipped_catalog_json();

}  // namespace fleet::rollout
