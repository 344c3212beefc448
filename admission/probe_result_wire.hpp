#pragma once
// A finished probe (the machine's ProbeRecord) as the agent reports it to fleetd (protocol/probe_result.hpp).
#include "admission/admission_machine.hpp"
#include "protocol/probe_result.hpp"

namespace fleet::admission {

protocol::ProbeResult to_probe_result(const ProbeRecord& record);

}  // namespace fleet::admission
