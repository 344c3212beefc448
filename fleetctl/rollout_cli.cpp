#include "fleetctl/rollout_cli.hpp"

#include <CLI/CLI.hpp>
#include <memory>
#include <tuple>

#include "fleetctl/list_flags.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/rollout_commands.hpp"

namespace fleet::ctl {
namespace {

struct RolloutFlags {
  RolloutOptions options;
  std::size_t limit = 0;
};

void add_name(CLI::App* cmd, RolloutOptions& o, const char* what = "Rollout name") {
  cmd->add_option("name", o.name, what)->required();
}

void add_output(CLI::App* cmd, RolloutOptions& o, std::vector<std::string> formats) {
  cmd->add_option("-o,--output", o.output, "Output format")->check(CLI::IsMember(std::move(formats)));
}

}  // namespace

void add_rollout_commands(const RolloutCliParents& parents,
                          const std::function<void(CLI::App*, std::function<int(Session&)>)>& command) {
  auto flags = std::make_shared<RolloutFlags>();
  auto& o = flags->options;
  const std::vector<std::string> documents = {"json", "yaml"};
  const std::vector<std::string> table_or_documents = {"table", "json", "yaml"};

  auto* rollout = parents.app->add_subcommand("rollout", "Staged upgrades: plan, create and drive update runs")
                      ->require_subcommand(1);

  auto* plan = rollout->add_subcommand("plan", "Show the plan of a run, or of a run spec not yet created (-f)");
  plan->add_option("name", o.name, "Rollout name");
  plan->add_option("-f,--filename", o.file, "Run spec, JSON or YAML ('-' for stdin)");
  add_output(plan, o, table_or_documents);
  command(plan, [flags](Session& s) { return rollout_plan(s, flags->options); });

  auto* create = rollout->add_subcommand("create", "Create a run from a spec (it stays Pending until started)");
  create->add_option("-f,--filename", o.file, "Run spec, JSON or YAML ('-' for stdin)")->required();
  create->add_option("--idempotency-key", o.idempotency_key, "Idempotency-Key to send (default: a random one)");
  add_output(create, o, documents);
  command(create, [flags](Session& s) { return rollout_create(s, flags->options); });

  for (const auto& [verb, help, action] :
       {std::tuple<const char*, const char*, RolloutAction>{"start", "Start a Pending run", RolloutAction::kStart},
        {"pause", "Pause a running run", RolloutAction::kPause},
        {"resume", "Resume a paused run", RolloutAction::kResume},
        {"abort", "Abort a run (it ends Aborted)", RolloutAction::kAbort}}) {
    auto* cmd = rollout->add_subcommand(verb, help);
    add_name(cmd, o);
    cmd->add_option("--reason", o.reason, "Why (audited)");
    add_output(cmd, o, documents);
    command(cmd, [flags, action = action](Session& s) { return rollout_action(s, action, flags->options); });
  }
  auto* retry = rollout->add_subcommand("retry", "Run the failed and skipped members again, same pinned targets");
  add_name(retry, o);
  add_output(retry, o, documents);
  command(retry, [flags](Session& s) { return rollout_action(s, RolloutAction::kRetry, flags->options); });

  auto* rollback = rollout->add_subcommand(
      "rollback", "Put blue-green pools in their soak back: workloads to the old pool, the new pool deleted");
  add_name(rollback, o);
  rollback->add_option("--cluster", o.cluster, "Only this member (default: every pool in its soak)");
  rollback->add_option("--reason", o.reason, "Why (audited)");
  add_output(rollback, o, documents);
  command(rollback, [flags](Session& s) { return rollout_rollback(s, flags->options); });

  auto* skip = rollout->add_subcommand("skip", "Skip one member, group, stage, gate or wait of a run");
  add_name(skip, o);
  skip->add_option("--member", o.member, "A cluster");
  skip->add_option("--group", o.group, "A group: STAGE/GROUP");
  skip->add_option("--stage", o.stage, "A stage");
  skip->add_option("--gate", o.gate, "A gate");
  skip->add_option("--wait", o.wait, "The wait after this stage");
  skip->add_option("--reason", o.reason, "Why (audited)");
  add_output(skip, o, documents);
  command(skip, [flags](Session& s) { return rollout_skip(s, flags->options); });

  auto* approve = rollout->add_subcommand("approve", "Approve an Approval gate");
  add_name(approve, o);
  approve->add_option("--gate", o.gate, "The gate's name")->required();
  add_output(approve, o, documents);
  command(approve, [flags](Session& s) { return rollout_approve(s, flags->options); });

  auto* events = rollout->add_subcommand("events", "List a run's transitions, oldest first");
  add_name(events, o);
  events->add_option("--limit", flags->limit, "Show at most N events (default: all, fetching every page)");
  add_output(events, o, table_or_documents);
  command(events, [flags, events](Session& s) {
    if (events->count("--limit")) flags->options.limit = flags->limit;
    return rollout_events(s, flags->options);
  });

  auto* status = rollout->add_subcommand("status", "A run's progress: stages, gates and each cluster");
  add_name(status, o);
  status->add_flag("-w,--watch", o.watch, "Redraw every 2 s until the run is Completed, Failed or Aborted");
  add_output(status, o, table_or_documents);
  command(status, [flags](Session& s) { return rollout_status(s, flags->options); });

  auto* describe = parents.describe->add_subcommand("rollout", "Describe a run (as rollout status)")->alias("rollouts");
  add_name(describe, o);
  add_output(describe, o, table_or_documents);
  command(describe, [flags](Session& s) { return rollout_status(s, flags->options); });

  auto* get_rollouts_cmd = parents.get->add_subcommand("rollouts", "List update runs, or show one")->alias("rollout");
  get_rollouts_cmd->add_option("name", o.name, "Rollout name");
  get_rollouts_cmd->add_option("--limit", flags->limit, "Return at most N runs (default: all)");
  add_list_flags(get_rollouts_cmd, o.list);
  command(get_rollouts_cmd, [flags, get_rollouts_cmd](Session& s) {
    if (get_rollouts_cmd->count("--limit")) flags->options.limit = flags->limit;
    return get_rollouts(s, flags->options);
  });

  auto* get_strategies_cmd =
      parents.get->add_subcommand("strategies", "List rollout strategies, or show one")->alias("strategy");
  get_strategies_cmd->add_option("name", o.name, "Strategy name");
  add_list_flags(get_strategies_cmd, o.list);
  command(get_strategies_cmd, [flags](Session& s) { return get_strategies(s, flags->options); });

  auto* create_strategy_cmd = parents.create->add_subcommand("strategy", "Create a reusable rollout strategy");
  create_strategy_cmd->add_option("-f,--filename", o.file, "The strategy, JSON or YAML ('-' for stdin)")->required();
  create_strategy_cmd->add_option("--idempotency-key", o.idempotency_key, "Idempotency-Key to send");
  add_output(create_strategy_cmd, o, documents);
  command(create_strategy_cmd, [flags](Session& s) { return create_strategy(s, flags->options); });

  auto* delete_strategy_cmd = parents.del->add_subcommand("strategy", "Delete a rollout strategy")->alias("strategies");
  add_name(delete_strategy_cmd, o, "Strategy name");
  command(delete_strategy_cmd, [flags](Session& s) { return delete_strategy(s, flags->options.name); });

  auto* get_profiles_cmd =
      parents.get->add_subcommand("auto-upgrade-profiles", "List auto-upgrade profiles, or show one")
          ->alias("auto-upgrade-profile");
  get_profiles_cmd->add_option("name", o.name, "Profile name");
  add_list_flags(get_profiles_cmd, o.list);
  command(get_profiles_cmd, [flags](Session& s) { return get_auto_upgrade_profiles(s, flags->options); });

  auto* delete_profile_cmd =
      parents.del->add_subcommand("auto-upgrade-profile", "Delete an auto-upgrade profile (its runs stay)")
          ->alias("auto-upgrade-profiles");
  add_name(delete_profile_cmd, o, "Profile name");
  command(delete_profile_cmd, [flags](Session& s) { return delete_auto_upgrade_profile(s, flags->options.name); });
}

}  // namespace fleet::ctl
