#include "fleetctl/rollout_commands.hpp"

#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "fleetctl/document_file.hpp"
#include "fleetctl/exit_codes.hpp"
#include "fleetctl/json_fields.hpp"
#include "fleetctl/list_output.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/problem.hpp"
#include "fleetctl/rollout_view.hpp"
#include "fleetctl/rollout_watch.hpp"
#include "net/url_encode.hpp"

namespace fleet::ctl {
namespace {

constexpr std::chrono::milliseconds kWatchInterval{2000};
// A watch outlives blips (a fleetd restart, a proxy's 502): this many failed reads in a row end it.
constexpr int kWatchMaxConsecutiveErrors = 5;

Error usage(std::string message) {
  return make_error(ErrorCode::kInvalid, std::move(message));
}

std::string rollout_path(const std::string& name) {
  return "/v1/rollouts/" + http::url_encode(name);
}

OutputFormat format_of(const RolloutOptions& options) {
  return parse_output_format(options.output).value_or(OutputFormat::kTable);
}

bool is_document(OutputFormat format) {
  return format == OutputFormat::kJson || format == OutputFormat::kYaml;
}

Status require_name(const RolloutOptions& options) {
  if (options.name.empty()) return usage("a rollout name is required");
  return Ok{};
}

std::string random_idempotency_key() {
  std::random_device random;
  std::string key;
  for (int i = 0; i < 4; ++i) {
    char part[9];
    std::snprintf(part, sizeof part, "%08x", static_cast<unsigned>(random()));
    key += part;
  }
  return key;
}

// "rollout/k8s-1-32 started (Running)", or the rollout object with -o json|yaml.
int print_rollout_result(Session& session, const RolloutOptions& options, const ApiResponse& response,
                         const std::string& what) {
  const auto format = format_of(options);
  if (is_document(format)) {
    session.out() << render_document(response.body, format);
    return 0;
  }
  const std::string state = string_field(response.body, "state");
  session.out() << "rollout/" << options.name << " " << what << (state.empty() ? "" : " (" + state + ")") << "\n";
  return 0;
}

int post_action(Session& session, const RolloutOptions& options, const std::string& verb,
                const std::optional<nlohmann::json>& body, const std::string& what) {
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto response = (*api)->call("POST", rollout_path(options.name) + ":" + verb, body);
  if (!response) return session.fail(response.error());
  return print_rollout_result(session, options, *response, what);
}

// `get KIND [NAME]` of a collection fleetd lists whole: one object, or every one.
int get_one_or_all(Session& session, const RolloutOptions& options, const std::string& collection, const char* kind,
                   const TableRenderer& table) {
  auto api = session.api();
  if (!api) return session.fail(api.error());
  if (!options.name.empty()) {
    auto got = (*api)->call("GET", collection + "/" + http::url_encode(options.name));
    if (!got) return session.fail(got.error());
    return print_object(session, got->body, options.list, kind, table);
  }
  auto listed = (*api)->list(collection, "", std::nullopt);
  if (!listed) return session.fail(listed.error());
  return print_list(session, std::move(*listed), options.list, kind, table);
}

// `delete KIND NAME`: "KIND "NAME" deleted" and what stays, if anything.
int delete_one(Session& session, const std::string& name, const std::string& collection, const std::string& kind,
               const std::string& noun, const std::string& stays) {
  if (name.empty()) return session.fail(usage(noun + " name is required"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto deleted = (*api)->call("DELETE", collection + "/" + http::url_encode(name));
  if (!deleted) return session.fail(deleted.error());
  session.out() << kind << " \"" << name << "\" deleted" << stays << "\n";
  return 0;
}

int watch_status(Session& session, ApiClient& api, const std::string& name) {
  WatchWriter writer(session.out(), session.stdout_is_tty());
  int errors_in_a_row = 0;
  while (true) {
    auto got = api.call("GET", rollout_path(name));
    if (!got) {
      if (exit_code_for(got.error()) != ExitCode::kServer || ++errors_in_a_row >= kWatchMaxConsecutiveErrors) {
        return session.fail(got.error());
      }
      std::string line = render_error(got.error());
      if (line.starts_with("error: ")) line.erase(0, 7);
      session.err() << "warning: " << line << "; retrying\n";
    } else {
      errors_in_a_row = 0;
      writer.write(rollout_status_lines(got->body));
      const std::string state = string_field(got->body, "state");
      if (state == "Completed") return to_int(ExitCode::kOk);
      if (state == "Failed" || state == "Aborted") return to_int(ExitCode::kRunFailed);
    }
    session.sleep_for(kWatchInterval);
  }
}

}  // namespace

int rollout_plan(Session& session, const RolloutOptions& options) {
  if (options.name.empty() == options.file.empty()) {
    return session.fail(usage("give either a rollout NAME or -f SPEC, not both or neither"));
  }
  std::optional<nlohmann::json> spec;
  if (!options.file.empty()) {
    auto read = read_document_file(session, options.file);
    if (!read) return session.fail(read.error());
    spec = std::move(*read);
  }
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto plan = spec ? (*api)->call("POST", "/v1/rollouts:plan", spec)
                   : (*api)->call("POST", rollout_path(options.name) + ":plan");
  if (!plan) return session.fail(plan.error());
  const auto format = format_of(options);
  session.out() << (is_document(format) ? render_document(plan->body, format) : plan_text(plan->body));
  return 0;
}

int rollout_create(Session& session, const RolloutOptions& options) {
  if (options.file.empty()) return session.fail(usage("-f SPEC is required: the run spec, JSON or YAML"));
  auto spec = read_document_file(session, options.file);
  if (!spec) return session.fail(spec.error());
  if (!member_or_null(*spec, "name").is_string()) return session.fail(usage("the run spec has no \"name\""));
  const std::string key = options.idempotency_key.empty() ? random_idempotency_key() : options.idempotency_key;
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto created = (*api)->call("POST", "/v1/rollouts", *spec, {{"Idempotency-Key", key}});
  if (!created) return session.fail(created.error());
  RolloutOptions named = options;
  named.name = string_field(created->body, "name");
  if (named.name.empty()) named.name = member_or_null(*spec, "name").get<std::string>();
  return print_rollout_result(session, named, *created, "created");
}

int rollout_action(Session& session, RolloutAction action, const RolloutOptions& options) {
  if (auto s = require_name(options); !s) return session.fail(s.error());
  std::optional<nlohmann::json> body;
  if (action != RolloutAction::kRetry && !options.reason.empty()) body = nlohmann::json{{"reason", options.reason}};
  switch (action) {
    case RolloutAction::kStart:
      return post_action(session, options, "start", body, "started");
    case RolloutAction::kPause:
      return post_action(session, options, "pause", body, "paused");
    case RolloutAction::kResume:
      return post_action(session, options, "resume", body, "resumed");
    case RolloutAction::kAbort:
      return post_action(session, options, "abort", body, "aborted");
    case RolloutAction::kRetry:
      return post_action(session, options, "retry", std::nullopt, "retrying failed and skipped members");
  }
  return session.fail(usage("unknown action"));
}

int rollout_rollback(Session& session, const RolloutOptions& options) {
  if (auto s = require_name(options); !s) return session.fail(s.error());
  nlohmann::json body = nlohmann::json::object();
  if (!options.cluster.empty()) body["cluster"] = options.cluster;
  if (!options.reason.empty()) body["reason"] = options.reason;
  return post_action(session, options, "rollback", body,
                     options.cluster.empty() ? "rolled back" : "rolled back on " + options.cluster);
}

int rollout_skip(Session& session, const RolloutOptions& options) {
  if (auto s = require_name(options); !s) return session.fail(s.error());
  std::vector<std::pair<const char*, const std::string*>> given;
  for (const auto& target : {std::pair<const char*, const std::string*>{"member", &options.member},
                             {"group", &options.group},
                             {"stage", &options.stage},
                             {"gate", &options.gate},
                             {"wait", &options.wait}}) {
    if (!target.second->empty()) given.push_back(target);
  }
  if (given.size() != 1) {
    return session.fail(usage("give exactly one of --member, --group, --stage, --gate or --wait"));
  }
  const auto& [kind, value] = given.front();
  if (std::string(kind) == "group") {
    const auto slash = value->find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == value->size() ||
        value->find('/', slash + 1) != std::string::npos) {
      return session.fail(usage("--group takes STAGE/GROUP, got \"" + *value + "\""));
    }
  }
  nlohmann::json body = {{kind, *value}};
  if (!options.reason.empty()) body["reason"] = options.reason;
  return post_action(session, options, "skip", body, "skipped " + std::string(kind) + " \"" + *value + "\"");
}

int rollout_approve(Session& session, const RolloutOptions& options) {
  if (auto s = require_name(options); !s) return session.fail(s.error());
  if (options.gate.empty()) return session.fail(usage("--gate is required: the gate to approve"));
  return post_action(session, options, "approve", nlohmann::json{{"gate", options.gate}},
                     "gate \"" + options.gate + "\" approved");
}

int rollout_events(Session& session, const RolloutOptions& options) {
  if (auto s = require_name(options); !s) return session.fail(s.error());
  if (options.limit && *options.limit == 0) return session.fail(usage("--limit must be at least 1"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto items = (*api)->list(rollout_path(options.name) + "/events", "", options.limit);
  if (!items) return session.fail(items.error());
  return print_list(session, std::move(*items), ListOptions{options.output, false, ""}, "event",
                    [](const auto& rows) { return events_table(rows); });
}

int rollout_status(Session& session, const RolloutOptions& options) {
  if (auto s = require_name(options); !s) return session.fail(s.error());
  const auto format = format_of(options);
  if (options.watch && is_document(format)) {
    return session.fail(usage("--watch draws the status; it cannot be combined with -o json or yaml"));
  }
  auto api = session.api();
  if (!api) return session.fail(api.error());
  if (options.watch) return watch_status(session, **api, options.name);
  auto got = (*api)->call("GET", rollout_path(options.name));
  if (!got) return session.fail(got.error());
  session.out() << (is_document(format) ? render_document(got->body, format)
                                        : join_lines(rollout_status_lines(got->body)));
  return 0;
}

int get_rollouts(Session& session, const RolloutOptions& options) {
  const bool wide = parse_output_format(options.list.output) == OutputFormat::kWide;
  if (!options.name.empty() && options.limit)
    return session.fail(usage("--limit applies to lists, not to one rollout"));
  if (options.limit && *options.limit == 0) return session.fail(usage("--limit must be at least 1"));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  auto table = [&](const std::vector<nlohmann::json>& rows) { return rollouts_table(rows, wide, session.now()); };
  if (!options.name.empty()) {
    auto got = (*api)->call("GET", rollout_path(options.name));
    if (!got) return session.fail(got.error());
    return print_object(session, got->body, options.list, "rollout", table);
  }
  auto listed = (*api)->list("/v1/rollouts", "", options.limit);
  if (!listed) return session.fail(listed.error());
  return print_list(session, std::move(*listed), options.list, "rollout", table);
}

int get_strategies(Session& session, const RolloutOptions& options) {
  return get_one_or_all(session, options, "/v1/strategies", "strategy",
                        [&](const auto& rows) { return strategies_table(rows, session.now()); });
}

int get_auto_upgrade_profiles(Session& session, const RolloutOptions& options) {
  return get_one_or_all(session, options, "/v1/auto-upgrade-profiles", "auto-upgrade-profile",
                        [&](const auto& rows) { return auto_upgrade_profiles_table(rows, session.now()); });
}

int delete_auto_upgrade_profile(Session& session, const std::string& name) {
  return delete_one(session, name, "/v1/auto-upgrade-profiles", "auto-upgrade-profile", "an auto-upgrade profile",
                    " (the runs it created stay)");
}

int create_strategy(Session& session, const RolloutOptions& options) {
  if (options.file.empty()) return session.fail(usage("-f FILE is required: the strategy, JSON or YAML"));
  auto body = read_document_file(session, options.file);
  if (!body) return session.fail(body.error());
  if (!member_or_null(*body, "name").is_string()) return session.fail(usage("the strategy has no \"name\""));
  auto api = session.api();
  if (!api) return session.fail(api.error());
  const std::string key = options.idempotency_key.empty() ? random_idempotency_key() : options.idempotency_key;
  auto created = (*api)->call("POST", "/v1/strategies", *body, {{"Idempotency-Key", key}});
  if (!created) return session.fail(created.error());
  const auto format = format_of(options);
  if (is_document(format)) {
    session.out() << render_document(created->body, format);
  } else {
    const std::string name = string_field(created->body, "name");
    session.out() << "strategy/" << (name.empty() ? member_or_null(*body, "name").get<std::string>() : name)
                  << " created\n";
  }
  return 0;
}

int delete_strategy(Session& session, const std::string& name) {
  return delete_one(session, name, "/v1/strategies", "strategy", "a strategy", "");
}

}  // namespace fleet::ctl
