#include "protocol/probe_result.hpp"

#include <array>
#include <utility>

#include "common/time_format.hpp"
#include "model/field_path.hpp"
#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::protocol {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 6> kTriggers = {"join", "upgrade", "schedule", "health", "manual", "repair"};
constexpr std::array<std::string_view, 5> kVerdicts = {"pass", "warn", "fail", "could-not-run", "not-run"};

Result<std::vector<std::string>> string_list(const json& j, std::string_view key, const std::string& path,
                                             std::size_t max_items, std::size_t max_length) {
  std::vector<std::string> out;
  auto list = model::optional_array(j, key, path);
  if (!list) return list.error();
  if (!*list) return out;
  const std::string f = model::member_path(path, key);
  if ((*list)->size() > max_items) return model::invalid_field(f, "at most " + std::to_string(max_items) + " items");
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const json& v = (**list)[i];
    const std::string item = model::index_path(f, i);
    if (!v.is_string()) return model::wrong_type(item, "a string", v);
    if (std::string p = model::token_problem(v.get<std::string>(), max_length); !p.empty()) {
      return model::invalid_field(item, p);
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::chrono::system_clock::time_point> timestamp(const json& j, std::string_view key, const std::string& path) {
  auto text = model::required_string(j, key, path);
  if (!text) return text.error();
  auto t = parse_timestamp(*text);
  if (!t) return model::invalid_field(model::member_path(path, key), "must be an RFC 3339 time");
  return *t;
}

}  // namespace

bool is_probe_trigger(std::string_view text) {
  return std::find(kTriggers.begin(), kTriggers.end(), text) != kTriggers.end();
}

bool is_probe_verdict(std::string_view text) {
  return std::find(kVerdicts.begin(), kVerdicts.end(), text) != kVerdicts.end();
}

json to_json(const ProbeResult& r) {
  json j = {{"probeId", r.probe_id},
            {"node", r.node},
            {"trigger", r.trigger},
            {"gpuUuids", r.gpu_uuids},
            {"startedAt", format_rfc3339(r.started_at)},
            {"finishedAt", format_rfc3339(r.finished_at)},
            {"verdict", r.verdict},
            {"admitted", r.admitted},
            {"reason", r.reason},
            {"failedChecks", r.failed_checks}};
  if (!r.probe_version.empty()) j["probeVersion"] = r.probe_version;
  if (r.report) j["report"] = *r.report;
  return j;
}

Result<ProbeResult> probe_result_from_json(const json& j, const std::string& path) {
  if (!j.is_object()) return model::wrong_type(path, "an object", j);
  if (auto s = model::reject_unknown_fields(j,
                                            {"probeId", "node", "trigger", "gpuUuids", "startedAt", "finishedAt",
                                             "verdict", "admitted", "reason", "failedChecks", "probeVersion", "report"},
                                            path);
      !s) {
    return s.error();
  }
  ProbeResult r;
  auto id = model::optional_token(j, "probeId", path, kMaxProbeIdLength);
  if (!id) return id.error();
  if (!*id) return model::missing_field(model::member_path(path, "probeId"));
  r.probe_id = **id;
  auto node = model::required_string(j, "node", path);
  if (!node) return node.error();
  if (auto s = model::validate_dns1123_subdomain(*node, model::member_path(path, "node")); !s) return s.error();
  r.node = *node;
  auto trigger = model::required_string(j, "trigger", path);
  if (!trigger) return trigger.error();
  if (!is_probe_trigger(*trigger)) {
    return model::invalid_field(model::member_path(path, "trigger"),
                                "must be join, upgrade, schedule, health, manual or repair");
  }
  r.trigger = *trigger;
  auto uuids = string_list(j, "gpuUuids", path, 64, 128);
  if (!uuids) return uuids.error();
  r.gpu_uuids = std::move(*uuids);
  auto started = timestamp(j, "startedAt", path);
  if (!started) return started.error();
  r.started_at = *started;
  auto finished = timestamp(j, "finishedAt", path);
  if (!finished) return finished.error();
  r.finished_at = *finished;
  if (r.finished_at < r.started_at) {
    return model::invalid_field(model::member_path(path, "finishedAt"), "must not be before startedAt");
  }
  auto verdict = model::required_string(j, "verdict", path);
  if (!verdict) return verdict.error();
  if (!is_probe_verdict(*verdict)) {
    return model::invalid_field(model::member_path(path, "verdict"),
                                "must be pass, warn, fail, could-not-run or not-run");
  }
  r.verdict = *verdict;
  auto admitted = model::optional_bool(j, "admitted", path);
  if (!admitted) return admitted.error();
  if (!*admitted) return model::missing_field(model::member_path(path, "admitted"));
  r.admitted = **admitted;
  // Only a passing report admits (admission/probe_verdict.hpp); fleetd refuses a record that says otherwise.
  if (r.admitted && r.verdict != "pass" && r.verdict != "warn") {
    return model::invalid_field(model::member_path(path, "admitted"), "only a pass or warn verdict admits");
  }
  auto reason = model::optional_string(j, "reason", path);
  if (!reason) return reason.error();
  r.reason = reason->value_or("");
  if (r.reason.size() > kMaxProbeReasonLength) {
    return model::invalid_field(model::member_path(path, "reason"),
                                "at most " + std::to_string(kMaxProbeReasonLength) + " bytes");
  }
  auto checks = string_list(j, "failedChecks", path, kMaxProbeChecks, 128);
  if (!checks) return checks.error();
  r.failed_checks = std::move(*checks);
  auto version = model::optional_token(j, "probeVersion", path, 64);
  if (!version) return version.error();
  r.probe_version = version->value_or("");
  auto report = model::optional_object(j, "report", path);
  if (!report) return report.error();
  if (*report) {
    if ((*report)->dump().size() > kMaxProbeReportBytes) {
      return model::invalid_field(model::member_path(path, "report"),
                                  "at most " + std::to_string(kMaxProbeReportBytes / 1024) + " KiB of JSON");
    }
    r.report = **report;
  }
  return r;
}

}  // namespace fleet::protocol
