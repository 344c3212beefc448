// fleet-sim's fleet spec file (--spec FILE): JSON or YAML text, at most 1 MiB.
#include "agents/fleet_spec.hpp"
#include "fuzz/fuzz_target.hpp"

FLEET_FUZZ_HARNESS(fleet_spec) {
  using namespace fleet;
  auto spec = agent::parse_fleet_spec_text(data);
  if (!spec) return;
  // The simulator writes specs back out (--write-spec); what it writes it must read.
  auto again = agent::parse_fleet_spec(agent::to_json(*spec));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(agent::to_json(*again) == agent::to_json(*spec));
}
