#pragma once
// `fleetctl … --help` ends with examples, kubectl style: the commands a person types most, ready to copy. One table
// for every command, so a new command without examples fails the test that walks the tree (completion_test.cpp).
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace fleet::ctl {

// The examples of the command at `path` ("get clusters"; "" is fleetctl itself), or "" when it has none.
std::string_view help_examples(std::string_view path);

// Sets every command's help footer to its examples.
void add_help_examples(CLI::App& app);

}  // namespace fleet::ctl
