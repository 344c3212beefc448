#include "api/openapi.hpp"

#include <stdexcept>

#include "api/yaml_json.hpp"

namespace fleet::api {
namespace detail {
extern const std::string_view kOpenApiYaml;  // generated from openapi.yaml (api/cmake/embed_text.cmake)
}  // namespace detail

std::string_view openapi_yaml() {
  return detail::kOpenApiYaml;
}

const std::string& openapi_json() {
  static const std::string json = [] {
    auto parsed = parse_yaml(detail::kOpenApiYaml);
    if (!parsed) throw std::logic_error("embedded api/openapi.yaml does not parse: " + parsed.error().message);
    return parsed->dump();
  }();
  return json;
}

}  // namespace fleet::api
