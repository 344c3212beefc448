#pragma once
// How every `fleetctl get` prints what it read, kubectl's way: -o json|yaml prints the whole list
// ({"items": [...]}, as kubectl's List) or the one object asked for by name; -o name prints KIND/NAME lines;
// -o jsonpath=TEMPLATE renders the template over that same document; otherwise a table, with --no-headers without
// its header line. --sort-by=JSONPATH orders the items first, whatever the format. An empty list prints
// "No resources found." on stderr (kubectl's wording) in the table and name formats.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleetctl/output_format.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

struct ListOptions {
  std::string output;       // -o
  bool no_headers = false;  // --no-headers
  std::string sort_by;      // --sort-by: a JSONPath evaluated on each item
};

using TableRenderer = std::function<std::string(const std::vector<nlohmann::json>&)>;

// "cluster/east-1". Tokens and probes are named by id, versions "version/PROVIDER/VERSION", nodes that carry a
// cluster "node/CLUSTER/NODE", GPUs "gpu/CLUSTER/NODE/INDEX"; everything else by its `name`.
std::string object_name(const std::string& kind, const nlohmann::json& item);

// The table's lines after the first: the rows without the header.
std::string without_header(const std::string& table);

// Sorts by options.sort_by (a bad path is a usage error), then prints. `kind` is the -o name word. `document`
// (when not null) is what -o json|yaml|jsonpath render instead of {"items": [...]}, e.g. the GPU list with its
// totals; its "items" are replaced by the sorted items. Returns the exit code.
int print_list(Session& session, std::vector<nlohmann::json> items, const ListOptions& options, const std::string& kind,
               const TableRenderer& table, nlohmann::json document = nullptr);

// One object read by name: -o json|yaml|jsonpath render the object itself, -o name one line, tables one row.
int print_object(Session& session, const nlohmann::json& object, const ListOptions& options, const std::string& kind,
                 const TableRenderer& table);

}  // namespace fleet::ctl
