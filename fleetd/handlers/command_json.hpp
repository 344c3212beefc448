#pragma once
// The command object on the wire (docs/api.md "Commands"), for the operators' endpoints and the agents' reports.
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "fleetd/store/command_store.hpp"
#include "net/http_types.hpp"

namespace fleet {

nlohmann::json command_json(const store::Command& command);
// The object with its resourceVersion as the ETag.
http::Response command_response(int status, const store::Command& command);
Error command_not_found(const std::string& id);

}  // namespace fleet
