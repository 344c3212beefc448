#include "fleetctl/workload_cli.hpp"

#include <CLI/CLI.hpp>
#include <memory>

#include "fleetctl/apply_command.hpp"
#include "fleetctl/list_flags.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/override_commands.hpp"
#include "fleetctl/workload_commands.hpp"

namespace fleet::ctl {
namespace {

struct WorkloadFlags {
  ApplyOptions apply;  // apply takes every kind; it is registered here, where it began (app.cpp wires this file)
  WorkloadOptions options;
  std::size_t limit = 0;
  OverrideOptions overrides;  // issue #15 item 2: overrides are part of a workload's placement
  std::size_t override_limit = 0;
};

void add_override_commands(const WorkloadCliParents& parents,
                           const std::function<void(CLI::App*, std::function<int(Session&)>)>& command,
                           const std::shared_ptr<WorkloadFlags>& flags) {
  auto& o = flags->overrides;
  auto* get = parents.get->add_subcommand("overrides", "List overrides, or show one by name")->alias("override");
  get->add_option("name", o.name, "Override name");
  get->add_option("--workload", o.workload, "Only the overrides that name this workload");
  get->add_option("--limit", flags->override_limit, "Return at most N overrides (default: all, fetching every page)");
  add_list_flags(get, o.list);
  command(get, [flags, get](Session& s) {
    if (get->count("--limit")) flags->overrides.limit = flags->override_limit;
    return get_overrides(s, flags->overrides);
  });

  auto* describe = parents.describe->add_subcommand("override", "Describe an override")->alias("overrides");
  describe->add_option("name", o.name, "Override name")->required();
  command(describe, [flags](Session& s) { return describe_override_command(s, flags->overrides.name); });

  auto* del = parents.del->add_subcommand("override", "Delete an override")->alias("overrides");
  del->add_option("name", o.name, "Override name")->required();
  command(del, [flags](Session& s) { return delete_override(s, flags->overrides.name); });
}

}  // namespace

void add_workload_commands(const WorkloadCliParents& parents,
                           const std::function<void(CLI::App*, std::function<int(Session&)>)>& command) {
  auto flags = std::make_shared<WorkloadFlags>();
  auto& o = flags->options;

  auto* apply = parents.app->add_subcommand(
      "apply",
      "Create or update objects from a file, JSON or YAML (several documents: YAML '---' or a JSON List): "
      "Cluster, Workload, Override, AdmissionPolicy, RolloutStrategy, Rollout, version catalog entries");
  apply->add_option("-f,--filename", flags->apply.file, "The file, JSON or YAML ('-' for stdin)")->required();
  apply->add_option("-o,--output", flags->apply.output, "Output format: the objects as fleetd answered")
      ->check(CLI::IsMember({"json", "yaml"}));
  command(apply, [flags](Session& s) { return apply_command(s, flags->apply); });

  auto* get = parents.get->add_subcommand("workloads", "List workloads, or show one by name")->alias("workload");
  get->add_option("name", o.name, "Workload name");
  get->add_option("--limit", flags->limit, "Return at most N workloads (default: all, fetching every page)");
  add_list_flags(get, o.list);
  command(get, [flags, get](Session& s) {
    if (get->count("--limit")) flags->options.limit = flags->limit;
    return get_workloads(s, flags->options);
  });

  auto* describe = parents.describe->add_subcommand("workload", "Describe a workload")->alias("workloads");
  describe->add_option("name", o.name, "Workload name")->required();
  command(describe, [flags](Session& s) { return describe_workload_command(s, flags->options.name); });

  auto* placement = parents.describe->add_subcommand(
      "placement", "Show where a workload runs and why other clusters were not chosen");
  placement->add_option("name", o.name, "Workload name")->required();
  command(placement, [flags](Session& s) { return describe_placement_command(s, flags->options.name); });

  auto* del = parents.del->add_subcommand("workload", "Delete a workload")->alias("workloads");
  del->add_option("name", o.name, "Workload name")->required();
  command(del, [flags](Session& s) { return delete_workload(s, flags->options.name); });

  add_override_commands(parents, command, flags);
}

}  // namespace fleet::ctl
