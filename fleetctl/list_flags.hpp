#pragma once
// The output flags every `get` list command shares (-o with name and jsonpath=…, --no-headers, --sort-by), declared
// once here so each command adds them with one call and they check their values the same way.
#include "fleetctl/list_output.hpp"

namespace CLI {
class App;
}

namespace fleet::ctl {

// -o/--output, --no-headers and --sort-by, bound to `options`. A bad -o value or template, or a bad --sort-by path,
// fails the parse (exit 2) with the reason.
void add_list_flags(CLI::App* cmd, ListOptions& options);

}  // namespace fleet::ctl
