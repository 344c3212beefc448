// fleetctl: the process entry point only wires the real environment to the command line.
#include <iostream>
#include <string>
#include <vector>

#include "fleetctl/app.hpp"
#include "fleetctl/session.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto env = fleet::ctl::system_environment();
  return fleet::ctl::run_fleetctl(args, fleet::ctl::Io{std::cin, std::cout, std::cerr}, env);
}
