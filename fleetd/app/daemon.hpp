#pragma once
// `fleetd` serving: starts the database, builds the components in dependency order, serves until SIGTERM or
// SIGINT, and stops them in reverse order. Exit codes: 0 after a clean stop, 1 when something cannot start,
// 2 for a configuration that cannot work (a bad listen address, plain HTTP off loopback).
#include <string>

#include "fleetd/app/config.hpp"

namespace fleet {

struct BuildInfo {
  std::string version = "0.0.0";
  std::string commit = "unknown";
  std::string date = "unknown";
};

int serve(const ServeConfig& config, const BuildInfo& build);

}  // namespace fleet
