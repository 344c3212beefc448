#include "fleetd/handlers/command_json.hpp"

#include "fleetd/http/responses.hpp"

namespace fleet {
namespace {

nlohmann::json or_null(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

}  // namespace

nlohmann::json command_json(const store::Command& c) {
  return {{"id", c.id},
          {"cluster", c.cluster},
          {"kind", c.kind},
          {"payload", c.payload},
          {"state", c.state},
          {"attempts", c.attempts},
          {"leaseExpiresAt", or_null(c.lease_until)},
          {"message", c.message},
          {"progress", c.progress},
          {"createdBy", c.created_by},
          {"createdAt", c.created_at},
          {"updatedAt", c.updated_at},
          {"finishedAt", or_null(c.finished_at)},
          {"resourceVersion", std::to_string(c.resource_version)}};
}

http::Response command_response(int status, const store::Command& c) {
  auto r = json_response(status, command_json(c).dump());
  r.headers["etag"] = "\"" + std::to_string(c.resource_version) + "\"";
  return r;
}

Error command_not_found(const std::string& id) {
  return make_error(ErrorCode::kNotFound, "command \"" + id + "\" not found", "", "not-found");
}

}  // namespace fleet
