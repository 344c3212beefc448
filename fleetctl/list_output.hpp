#pragma once
// How every `fleetctl get` prints a list: the whole list as JSON or YAML ({"items": [...]}, as kubectl's List),
// else a table, or "No resources found." on stderr when there is nothing (kubectl's wording).
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleetctl/output_format.hpp"
#include "fleetctl/session.hpp"

namespace fleet::ctl {

void print_list(Session& session, const std::vector<nlohmann::json>& items, OutputFormat format,
                const std::function<std::string(const std::vector<nlohmann::json>&)>& table);

}  // namespace fleet::ctl
