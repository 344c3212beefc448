#pragma once
#include <string>

#include "fleetctl/session.hpp"

namespace fleet::ctl {

// Client version always; the server's GET /version unless `client_only`. The client line is printed even when the
// server cannot be reached (then the exit code says so).
int version_command(Session& session, bool client_only, const std::string& output);

}  // namespace fleet::ctl
