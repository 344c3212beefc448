#pragma once
// Kubernetes resource quantities ("96", "3860m", "1056Gi", "1000000Ki", "129e6", "0.5"), as
// k8s.io/apimachinery/pkg/api/resource parses them: a signed decimal number, then a binary-SI suffix (Ki … Ei),
// a decimal-SI suffix (n u m "" k M G T P E) or a decimal exponent (e3, E-2). Pure.
#include <cstdint>
#include <string_view>

#include "common/error.hpp"

namespace fleet::agent::kube {

// The quantity as an integer, rounded up like Quantity.Value() ("1.5" → 2, "100m" → 1): bytes, GPU counts.
Result<std::int64_t> quantity_value(std::string_view text);
// The quantity in thousandths, rounded up like Quantity.MilliValue() ("3860m" → 3860, "96" → 96000): CPU.
Result<std::int64_t> quantity_milli(std::string_view text);

}  // namespace fleet::agent::kube
