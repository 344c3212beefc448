#include "fleetctl/version.hpp"

#ifndef FLEETCTL_VERSION
#define FLEETCTL_VERSION "0.0.0-unknown"
#endif

namespace fleet::ctl {

std::string_view client_version() {
  return FLEETCTL_VERSION;
}

}  // namespace fleet::ctl
