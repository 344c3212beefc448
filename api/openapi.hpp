#pragma once
// The OpenAPI description served at GET /openapi.json: api/openapi.yaml, embedded at build time and converted to
// JSON on first use.
#include <string>
#include <string_view>

namespace fleet::api {

// The YAML exactly as checked in.
std::string_view openapi_yaml();
// Compact JSON of the same document; converted once, thread-safe (function-local static). The YAML is verified
// by a unit test, so a conversion failure is a build defect: it throws std::logic_error.
const std::string& openapi_json();

}  // namespace fleet::api
