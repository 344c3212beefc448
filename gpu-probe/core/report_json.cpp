#include "gpu-probe/core/report_json.hpp"

namespace fleet::gpuprobe {

namespace {

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

fleet::Error bad_report(const std::string& what) {
  return fleet::make_error(fleet::ErrorCode::kInvalid, "report: " + what, {}, "bad-report");
}

// Reads field `k` of `j`, throwing (caught once in report_from_json) when it is missing or of the wrong type.
template <class T>
T req(const nlohmann::json& j, const char* k) {
  if (!j.is_object() || !j.contains(k)) throw std::runtime_error(std::string("missing field ") + k);
  return j.at(k).get<T>();
}

std::optional<double> opt_double(const nlohmann::json& j, const char* k) {
  if (!j.contains(k)) throw std::runtime_error(std::string("missing field ") + k);
  if (j.at(k).is_null()) return std::nullopt;
  return j.at(k).get<double>();
}

CheckResult check_from_json(const nlohmann::json& j) {
  CheckResult c;
  c.name = req<std::string>(j, "name");
  auto st = parse_check_status(req<std::string>(j, "status"));
  if (!st) throw std::runtime_error("bad check status in " + c.name);
  c.status = *st;
  c.measured = opt_double(j, "measured");
  c.fail_threshold = opt_double(j, "fail_threshold");
  c.warn_threshold = opt_double(j, "warn_threshold");
  c.spec = opt_double(j, "spec");
  auto cmp = parse_comparison(req<std::string>(j, "comparison"));
  if (!cmp) throw std::runtime_error("bad comparison in " + c.name);
  c.comparison = *cmp;
  c.unit = req<std::string>(j, "unit");
  c.duration_ms = req<double>(j, "duration_ms");
  c.message = req<std::string>(j, "message");
  c.details = j.at("details");
  return c;
}

}  // namespace

nlohmann::json check_to_json(const CheckResult& c) {
  return {{"name", c.name},
          {"status", to_string(c.status)},
          {"measured", opt(c.measured)},
          {"unit", c.unit},
          {"comparison", to_string(c.comparison)},
          {"fail_threshold", opt(c.fail_threshold)},
          {"warn_threshold", opt(c.warn_threshold)},
          {"spec", opt(c.spec)},
          {"duration_ms", c.duration_ms},
          {"message", c.message},
          {"details", c.details}};
}

nlohmann::json report_to_json(const Report& r) {
  nlohmann::json j;
  j["schema"] = std::string(kReportSchemaId);
  j["schema_version"] = r.schema_version;
  j["probe_version"] = r.probe_version;
  j["host"] = r.host;
  j["started_at"] = r.started_at;
  j["mode"] = std::string(to_string(r.mode));
  j["injected"] = r.injected;
  j["verdict"] = std::string(to_string(r.verdict));
  j["exit_code"] = exit_code_for(r.verdict);
  j["could_not_run"] = r.could_not_run
                           ? nlohmann::json{{"code", r.could_not_run->code}, {"reason", r.could_not_run->reason}}
                           : nlohmann::json(nullptr);
  const auto& e = r.environment;
  j["environment"] = {{"built_with_cuda", e.built_with_cuda},         {"runtime_version", e.runtime_version},
                      {"driver_cuda_version", e.driver_cuda_version}, {"driver_version", e.driver_version},
                      {"nvml_available", e.nvml_available},           {"nvml_error", e.nvml_error}};
  j["wall_ms"] = r.wall_ms;
  j["node_checks"] = nlohmann::json::array();
  for (const auto& c : r.node_checks) j["node_checks"].push_back(check_to_json(c));
  j["gpus"] = nlohmann::json::array();
  for (const auto& g : r.gpus) {
    nlohmann::json gj = {
        {"index", g.device.index},
        {"name", g.device.name},
        {"pci_bus_id", g.device.pci_bus_id},
        {"uuid", g.device.uuid},
        {"memory_bytes", g.device.total_memory_bytes},
        {"compute_capability", std::to_string(g.device.cc_major) + "." + std::to_string(g.device.cc_minor)},
        {"multiprocessors", g.device.multiprocessors},
        {"sku", g.sku.empty() ? nlohmann::json(nullptr) : nlohmann::json(g.sku)},
        {"status", to_string(g.status)},
        {"duration_ms", g.duration_ms},
        {"checks", nlohmann::json::array()}};
    for (const auto& c : g.checks) gj["checks"].push_back(check_to_json(c));
    j["gpus"].push_back(gj);
  }
  return j;
}

fleet::Result<Report> report_from_json(const nlohmann::json& j) {
  try {
    if (req<std::string>(j, "schema") != kReportSchemaId || req<int>(j, "schema_version") != kReportSchemaVersion) {
      return bad_report("unsupported schema " + j.value("schema", std::string("?")));
    }
    Report r;
    r.schema_version = req<int>(j, "schema_version");
    r.probe_version = req<std::string>(j, "probe_version");
    r.host = req<std::string>(j, "host");
    r.started_at = req<std::string>(j, "started_at");
    auto mode = req<std::string>(j, "mode");
    if (mode != "quick" && mode != "full") return bad_report("bad mode " + mode);
    r.mode = mode == "full" ? Mode::kFull : Mode::kQuick;
    r.injected = req<std::vector<std::string>>(j, "injected");
    auto v = parse_verdict(req<std::string>(j, "verdict"));
    if (!v) return bad_report("bad verdict");
    r.verdict = *v;
    if (req<int>(j, "exit_code") != exit_code_for(r.verdict)) return bad_report("exit_code does not match verdict");
    if (!j.at("could_not_run").is_null()) {
      r.could_not_run =
          CouldNotRun{req<std::string>(j["could_not_run"], "code"), req<std::string>(j["could_not_run"], "reason")};
    }
    const auto& e = j.at("environment");
    r.environment = {req<bool>(e, "built_with_cuda"),    req<int>(e, "runtime_version"),
                     req<int>(e, "driver_cuda_version"), req<std::string>(e, "driver_version"),
                     req<bool>(e, "nvml_available"),     req<std::string>(e, "nvml_error")};
    r.wall_ms = req<double>(j, "wall_ms");
    for (const auto& c : j.at("node_checks")) r.node_checks.push_back(check_from_json(c));
    for (const auto& gj : j.at("gpus")) {
      GpuReport g;
      g.device.index = req<int>(gj, "index");
      g.device.name = req<std::string>(gj, "name");
      g.device.pci_bus_id = req<std::string>(gj, "pci_bus_id");
      g.device.uuid = req<std::string>(gj, "uuid");
      g.device.total_memory_bytes = req<std::uint64_t>(gj, "memory_bytes");
      auto cc = req<std::string>(gj, "compute_capability");
      auto dot = cc.find('.');
      if (dot == std::string::npos) return bad_report("bad compute_capability " + cc);
      g.device.cc_major = std::stoi(cc.substr(0, dot));
      g.device.cc_minor = std::stoi(cc.substr(dot + 1));
      g.device.multiprocessors = req<int>(gj, "multiprocessors");
      g.sku = gj.at("sku").is_null() ? std::string() : gj.at("sku").get<std::string>();
      auto st = parse_check_status(req<std::string>(gj, "status"));
      if (!st) return bad_report("bad GPU status");
      g.status = *st;
      g.duration_ms = req<double>(gj, "duration_ms");
      for (const auto& c : gj.at("checks")) g.checks.push_back(check_from_json(c));
      r.gpus.push_back(std::move(g));
    }
    return r;
  } catch (const std::exception& ex) {
    return bad_report(ex.what());
  }
}

}  // namespace fleet::gpuprobe
