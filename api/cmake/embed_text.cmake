# Writes OUTPUT, a C++ file defining fleet::api::detail::kOpenApiYaml with the text of INPUT.
# Run as a script (cmake -P) at build time so that edits to INPUT rebuild without re-running configure.
file(READ "${INPUT}" text)
set(delimiter "fleetd_embed")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${delimiter}\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by api/cmake/embed_text.cmake; do not edit.\n"
  "#include <string_view>\n"
  "namespace fleet::api::detail {\n"
  "extern const std::string_view kOpenApiYaml;\n"
  "const std::string_view kOpenApiYaml = R\"${delimiter}(${text})${delimiter}\";\n"
  "}  // namespace fleet::api::detail\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
