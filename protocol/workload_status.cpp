#include "protocol/workload_status.hpp"

#include <limits>

#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::protocol {

using nlohmann::json;

std::string_view to_string(WorkloadReadiness readiness) {
  switch (readiness) {
    case WorkloadReadiness::kReady:
      return "Ready";
    case WorkloadReadiness::kFailed:
      return "Failed";
    case WorkloadReadiness::kProgressing:
      break;
  }
  return "Progressing";
}

std::optional<WorkloadReadiness> parse_workload_readiness(std::string_view text) {
  for (WorkloadReadiness r : {WorkloadReadiness::kProgressing, WorkloadReadiness::kReady, WorkloadReadiness::kFailed}) {
    if (to_string(r) == text) return r;
  }
  return std::nullopt;
}

json to_json(const WorkloadStatus& s) {
  json j = {{"workload", s.workload}, {"generation", s.generation}, {"state", std::string(to_string(s.state))}};
  if (!s.message.empty()) j["message"] = s.message;
  return j;
}

Result<WorkloadStatus> workload_status_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j, {"workload", "generation", "state", "message"}, path); !s) {
    return s.error();
  }
  WorkloadStatus out;
  auto name = model::required_string(j, "workload", path);
  if (!name) return name.error();
  if (auto s = model::validate_dns1123_subdomain(*name, model::member_path(path, "workload")); !s) return s.error();
  out.workload = *name;
  auto generation = model::optional_integer(j, "generation", path, 1, std::numeric_limits<std::int64_t>::max());
  if (!generation) return generation.error();
  if (!*generation) return model::missing_field(model::member_path(path, "generation"));
  out.generation = **generation;
  auto state = model::required_string(j, "state", path);
  if (!state) return state.error();
  auto readiness = parse_workload_readiness(*state);
  if (!readiness) {
    return model::invalid_field(model::member_path(path, "state"), "must be Progressing, Ready or Failed");
  }
  out.state = *readiness;
  auto message = model::optional_string(j, "message", path);
  if (!message) return message.error();
  if (*message) {
    if ((*message)->size() > kMaxWorkloadStatusMessageBytes) {
      return model::invalid_field(model::member_path(path, "message"),
                                  "at most " + std::to_string(kMaxWorkloadStatusMessageBytes) + " bytes");
    }
    out.message = **message;
  }
  return out;
}

}  // namespace fleet::protocol
