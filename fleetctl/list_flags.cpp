#include "fleetctl/list_flags.hpp"

#include <CLI/CLI.hpp>

#include "fleetctl/jsonpath.hpp"

namespace fleet::ctl {

void add_list_flags(CLI::App* cmd, ListOptions& options) {
  cmd->add_option("-o,--output", options.output,
                  "Output format: table, wide, json, yaml, name or jsonpath=TEMPLATE (e.g. "
                  "jsonpath='{.items[*].name}')")
      ->check(CLI::Validator([](std::string& value) { return list_output_problem(value); }, "FORMAT"));
  cmd->add_flag("--no-headers", options.no_headers, "Print tables without their header line");
  cmd->add_option("--sort-by", options.sort_by,
                  "Sort by a JSONPath of each item, e.g. .name or .createdAt (numbers numerically, missing last)")
      ->check(CLI::Validator(
          [](std::string& value) {
            auto selected = jsonpath_select(value, nlohmann::json::object());
            return selected ? std::string() : selected.error().message;
          },
          "JSONPATH"));
}

}  // namespace fleet::ctl
