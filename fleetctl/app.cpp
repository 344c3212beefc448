#include "fleetctl/app.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <ostream>
#include <sstream>

#include "fleetctl/catalog_commands.hpp"
#include "fleetctl/cluster_commands.hpp"
#include "fleetctl/command_tree.hpp"
#include "fleetctl/completion.hpp"
#include "fleetctl/config_commands.hpp"
#include "fleetctl/exit_codes.hpp"
#include "fleetctl/help_examples.hpp"
#include "fleetctl/inventory_commands.hpp"
#include "fleetctl/list_flags.hpp"
#include "fleetctl/output_format.hpp"
#include "fleetctl/probe_commands.hpp"
#include "fleetctl/rollout_cli.hpp"
#include "fleetctl/suggest.hpp"
#include "fleetctl/token_commands.hpp"
#include "fleetctl/version.hpp"
#include "fleetctl/version_command.hpp"
#include "fleetctl/watch.hpp"
#include "fleetctl/workload_cli.hpp"

namespace fleet::ctl {
namespace {

// Flag values land here during parsing; commands run only after a successful parse.
struct Flags {
  std::string config_path, context, server, token, ca_file;
  int request_timeout = 30;
  bool insecure_http = false;
  GetClustersOptions get_clusters;
  GetNodesOptions get_nodes;
  GetGpusOptions get_gpus;
  GetProbesOptions get_probes;
  ListOptions get_tokens;
  std::string reason;
  std::size_t limit = 0;
  std::string output;
  std::string name;
  CreateClusterOptions create_cluster;
  std::string region, update_group;
  LabelOptions label;
  TaintOptions taint;
  CreateTokenOptions create_token;
  CreateBootstrapTokenOptions create_bootstrap;
  SetContextOptions set_context;
  ConfigViewOptions config_view;
  std::string ctx_server, ctx_token, ctx_ca_file;
  bool client_only = false;
};

// -o of the commands that print one document (json or yaml); the `get` list commands use add_list_flags.
CLI::Option* add_output(CLI::App* cmd, std::string& target) {
  return cmd->add_option("-o,--output", target, "Output format: json or yaml")->check(CLI::IsMember({"json", "yaml"}));
}

// The flags, then $FLEETCTL_TOKEN, then the context's fields.
ConnectionOverrides overrides_from(const Flags& f, const CLI::App& app, const Environment& env) {
  ConnectionOverrides o;
  if (app.count("--context")) o.context = f.context;
  if (app.count("--server")) o.server = f.server;
  if (app.count("--token")) {
    o.token = f.token;
  } else if (env.fleetctl_token && !env.fleetctl_token->empty()) {
    o.token = *env.fleetctl_token;
  }
  if (app.count("--ca-file")) o.ca_file = f.ca_file;
  return o;
}

int run(const std::vector<std::string>& args, Io io, const Environment& env);

// `fleetctl __complete WORDS… CURRENT`, what the completion scripts call on each TAB. Resource names come from
// `fleetctl get NOUN -o name` run in this process with the connection flags typed so far; when that fails (no
// server, no token) there are no names, and nothing is printed on stderr to garble the shell's line.
int complete_command(const CLI::App& app, const std::vector<std::string>& words, Io io, const Environment& env) {
  Completion completion = complete(command_tree(app), words);
  if (!completion.names_of.empty()) {
    std::vector<std::string> list = {"get", completion.names_of, "-o", "name", "--request-timeout", "5"};
    list.insert(list.end(), completion.connection.begin(), completion.connection.end());
    std::istringstream no_input;
    std::ostringstream names;
    std::ostringstream ignored;
    if (run(list, Io{no_input, names, ignored}, env) == 0) {
      std::istringstream lines(names.str());
      const std::string& word = words.empty() ? std::string() : words.back();
      for (std::string line; std::getline(lines, line);) {
        std::string name = line.substr(line.find('/') + 1);  // "cluster/gpu-east-1"
        if (!name.empty() && name.starts_with(word)) completion.candidates.emplace_back(std::move(name), "");
      }
    }
  }
  io.out << render_completion(completion);
  return 0;
}

int run(const std::vector<std::string>& args, Io io, const Environment& env) {
  CLI::App app{"fleetctl controls a fleetd fleet manager: clusters, tokens and client contexts.", "fleetctl"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags are accepted after the subcommand too, as with kubectl
  app.set_version_flag("--client-version", std::string(client_version()));
  Flags f;
  app.add_option("--config", f.config_path, "Config file (default $FLEETCTL_CONFIG or ~/.fleet/config.json)");
  app.add_option("--context", f.context, "Context of the config file to use");
  app.add_option("--server", f.server, "fleetd URL, e.g. http://127.0.0.1:8080 (overrides the context)");
  app.add_option(
      "--token", f.token,
      "Bearer token (overrides $FLEETCTL_TOKEN and the context; visible to other local users, prefer those)");
  app.add_option("--ca-file", f.ca_file, "PEM CA bundle to verify an https server (overrides the context)");
  app.add_flag("--insecure-http", f.insecure_http,
               "Allow a plain http:// server on a non-loopback address (the token travels unencrypted)");
  app.add_option("--request-timeout", f.request_timeout, "Seconds to wait for each request")
      ->check(CLI::Range(1, 3600));

  std::vector<std::pair<CLI::App*, std::function<int(Session&)>>> commands;
  auto command = [&](CLI::App* cmd, std::function<int(Session&)> fn) { commands.emplace_back(cmd, std::move(fn)); };

  // get
  auto* get = app.add_subcommand("get", "Show one or many resources")->require_subcommand(1);
  auto* get_clusters_cmd = get->add_subcommand("clusters", "List clusters, or show one by name")->alias("cluster");
  get_clusters_cmd->add_option("name", f.get_clusters.name, "Cluster name");
  get_clusters_cmd->add_option("-l,--selector", f.get_clusters.selector, "Label selector, e.g. env=prod,tier!=gold");
  get_clusters_cmd->add_option("--limit", f.limit, "Return at most N clusters (default: all, fetching every page)");
  add_list_flags(get_clusters_cmd, f.get_clusters.list);
  command(get_clusters_cmd, [&](Session& s) {
    if (get_clusters_cmd->count("--limit")) f.get_clusters.limit = f.limit;
    return get_clusters(s, f.get_clusters);
  });
  auto* get_tokens_cmd = get->add_subcommand("tokens", "List API tokens (admin)")->alias("token");
  add_list_flags(get_tokens_cmd, f.get_tokens);
  command(get_tokens_cmd, [&](Session& s) { return get_tokens(s, f.get_tokens); });
  auto* get_nodes_cmd = get->add_subcommand("nodes", "List the nodes of a cluster, or of every cluster")->alias("node");
  get_nodes_cmd->add_option("--cluster", f.get_nodes.cluster, "Only this cluster's nodes (default: every cluster)");
  get_nodes_cmd->add_option("--limit", f.limit, "Return at most N nodes (default: all)");
  add_list_flags(get_nodes_cmd, f.get_nodes.list);
  command(get_nodes_cmd, [&](Session& s) {
    if (get_nodes_cmd->count("--limit")) f.get_nodes.limit = f.limit;
    return get_nodes(s, f.get_nodes);
  });
  auto* get_gpus_cmd = get->add_subcommand("gpus", "List the fleet's GPUs, with totals by model")->alias("gpu");
  get_gpus_cmd->add_option("--cluster", f.get_gpus.cluster, "Only this cluster's GPUs");
  get_gpus_cmd->add_option("--model", f.get_gpus.model, "Only this model, e.g. \"NVIDIA H100 80GB HBM3\"");
  get_gpus_cmd->add_option("--health", f.get_gpus.health, "healthy, unhealthy or unknown")
      ->check(CLI::IsMember({"healthy", "unhealthy", "unknown"}));
  get_gpus_cmd->add_option("--admission", f.get_gpus.admission, "pending_probe, admitted or quarantined")
      ->check(CLI::IsMember({"pending_probe", "admitted", "quarantined"}));
  get_gpus_cmd->add_option("--limit", f.limit, "Return at most N GPUs (default: all, fetching every page)");
  add_list_flags(get_gpus_cmd, f.get_gpus.list);
  command(get_gpus_cmd, [&](Session& s) {
    if (get_gpus_cmd->count("--limit")) f.get_gpus.limit = f.limit;
    return get_gpus(s, f.get_gpus);
  });

  auto* get_probes_cmd = get->add_subcommand("probes", "List GPU probe results, newest first")->alias("probe");
  get_probes_cmd->add_option("--cluster", f.get_probes.cluster, "Only this cluster's probes");
  get_probes_cmd->add_option("--verdict", f.get_probes.verdict, "pass, warn, fail, could-not-run or not-run")
      ->check(CLI::IsMember({"pass", "warn", "fail", "could-not-run", "not-run"}));
  get_probes_cmd->add_option("--model", f.get_probes.model, "Only nodes of this GPU model");
  get_probes_cmd->add_option("--check", f.get_probes.check, "Only probes that failed this check, e.g. hbm_bandwidth");
  get_probes_cmd->add_option("--since", f.get_probes.since, "Only probes finished since (RFC 3339)");
  get_probes_cmd->add_option("--limit", f.limit, "Return at most N results (default 100)");
  add_list_flags(get_probes_cmd, f.get_probes.list);
  command(get_probes_cmd, [&](Session& s) {
    if (get_probes_cmd->count("--limit")) f.get_probes.limit = f.limit;
    return get_probes(s, f.get_probes);
  });

  GetVersionsOptions get_versions_options;
  auto* get_versions_cmd =
      get->add_subcommand("versions", "List the version catalog: Kubernetes versions and node images")
          ->alias("version");
  get_versions_cmd->add_option("--kind", get_versions_options.kind, "kubernetes or nodeImage")
      ->check(CLI::IsMember({"kubernetes", "nodeImage"}));
  get_versions_cmd->add_option("--provider", get_versions_options.provider, "aks or arc")
      ->check(CLI::IsMember({"aks", "arc"}));
  get_versions_cmd->add_option("--os-family", get_versions_options.os_family, "Node images of this OS family only");
  get_versions_cmd->add_flag("--include-retired", get_versions_options.include_retired, "Show retired entries too");
  add_list_flags(get_versions_cmd, get_versions_options.list);
  command(get_versions_cmd, [&](Session& s) { return get_versions(s, get_versions_options); });

  // describe
  auto* describe = app.add_subcommand("describe", "Show details of a resource")->require_subcommand(1);
  auto* describe_cluster_cmd = describe->add_subcommand("cluster", "Describe a cluster")->alias("clusters");
  describe_cluster_cmd->add_option("name", f.name, "Cluster name")->required();
  command(describe_cluster_cmd, [&](Session& s) { return describe_cluster_command(s, f.name); });
  auto* describe_node_cmd =
      describe->add_subcommand("node", "Describe a node: admission, last GPU probe, its checks")->alias("nodes");
  describe_node_cmd->add_option("node", f.name, "CLUSTER/NODE")->required();
  add_output(describe_node_cmd, f.output);
  command(describe_node_cmd, [&](Session& s) { return describe_node_command(s, f.name, f.output); });

  // GPU admission: the operator's actions on a node
  auto* probe = app.add_subcommand("probe", "Run gpu-probe on a node again now")->require_subcommand(1);
  auto* probe_node_cmd = probe->add_subcommand("node", "Probe a GPU node again: CLUSTER/NODE");
  probe_node_cmd->add_option("node", f.name, "CLUSTER/NODE")->required();
  probe_node_cmd->add_option("--reason", f.reason, "Why (audited)");
  command(probe_node_cmd,
          [&](Session& s) { return node_admission_command(s, NodeAdmissionAction::kProbe, f.name, f.reason); });
  auto* admit = app.add_subcommand("admit", "Admit a GPU node without a passing probe")->require_subcommand(1);
  auto* admit_node_cmd = admit->add_subcommand("node", "Admit a GPU node: CLUSTER/NODE --reason R");
  admit_node_cmd->add_option("node", f.name, "CLUSTER/NODE")->required();
  admit_node_cmd->add_option("--reason", f.reason, "Why the probe's verdict is overridden (audited)")->required();
  command(admit_node_cmd,
          [&](Session& s) { return node_admission_command(s, NodeAdmissionAction::kAdmit, f.name, f.reason); });
  auto* quarantine = app.add_subcommand("quarantine", "Take a GPU node off work")->require_subcommand(1);
  auto* quarantine_node_cmd = quarantine->add_subcommand("node", "Quarantine a GPU node: CLUSTER/NODE --reason R");
  quarantine_node_cmd->add_option("node", f.name, "CLUSTER/NODE")->required();
  quarantine_node_cmd->add_option("--reason", f.reason, "Why (audited)")->required();
  command(quarantine_node_cmd,
          [&](Session& s) { return node_admission_command(s, NodeAdmissionAction::kQuarantine, f.name, f.reason); });

  // create
  auto* create = app.add_subcommand("create", "Create a resource")->require_subcommand(1);
  auto* create_cluster_cmd = create->add_subcommand("cluster", "Register a cluster");
  auto& cc = f.create_cluster;
  create_cluster_cmd->add_option("name", cc.name, "Cluster name (DNS-1123 label)");
  create_cluster_cmd->add_option("--provider", cc.provider, "aks or arc");
  create_cluster_cmd->add_option("--region", f.region, "Cloud region, e.g. westeurope");
  create_cluster_cmd->add_option("--label", cc.labels, "Label key=value (repeatable)");
  create_cluster_cmd->add_option("--taint", cc.taints, "Taint key=value:Effect (repeatable)");
  create_cluster_cmd->add_option("--update-group", f.update_group, "Update group, e.g. canary");
  create_cluster_cmd->add_option("-f,--filename", cc.file, "The request body, JSON or YAML ('-' for stdin)");
  add_output(create_cluster_cmd, cc.output);
  command(create_cluster_cmd, [&](Session& s) {
    if (create_cluster_cmd->count("--region")) cc.region = f.region;
    if (create_cluster_cmd->count("--update-group")) cc.update_group = f.update_group;
    if (cc.file.empty() && cc.name.empty()) {
      return s.fail(make_error(ErrorCode::kInvalid, "a cluster name is required"));
    }
    return create_cluster(s, cc);
  });
  auto* create_token_cmd = create->add_subcommand("token", "Create an API token (admin); prints the secret once");
  create_token_cmd->add_option("--role", f.create_token.role, "viewer, operator or admin")
      ->required()
      ->check(CLI::IsMember({"viewer", "operator", "admin"}));
  create_token_cmd->add_option("--description", f.create_token.description, "What the token is for");
  add_output(create_token_cmd, f.create_token.output);
  command(create_token_cmd, [&](Session& s) { return create_token(s, f.create_token); });
  auto* create_bootstrap_cmd = create->add_subcommand(
      "bootstrap-token", "Create a one-time registration token for a cluster's agent (operator)");
  create_bootstrap_cmd->add_option("--cluster", f.create_bootstrap.cluster, "Cluster name")->required();
  create_bootstrap_cmd->add_option("--ttl", f.create_bootstrap.ttl, "How long it stays valid: 90s, 15m, 1h, 7d")
      ->capture_default_str();
  add_output(create_bootstrap_cmd, f.create_bootstrap.output);
  command(create_bootstrap_cmd, [&](Session& s) { return create_bootstrap_token(s, f.create_bootstrap); });

  // label, taint
  auto* label = app.add_subcommand("label", "Add, change or remove labels")->require_subcommand(1);
  auto* label_cluster_cmd = label->add_subcommand("cluster", "Label a cluster: k=v to set, k- to remove");
  label_cluster_cmd->add_option("name", f.label.name, "Cluster name")->required();
  label_cluster_cmd->add_option("changes", f.label.changes, "k=v or k-")->required();
  label_cluster_cmd->add_flag("--overwrite", f.label.overwrite, "Allow changing the value of an existing label");
  command(label_cluster_cmd, [&](Session& s) { return label_cluster(s, f.label); });

  auto* taint = app.add_subcommand("taint", "Add or remove taints")->require_subcommand(1);
  auto* taint_cluster_cmd =
      taint->add_subcommand("cluster", "Taint a cluster: k=v:Effect to add, k:Effect- or k- to remove");
  taint_cluster_cmd->add_option("name", f.taint.name, "Cluster name")->required();
  taint_cluster_cmd->add_option("changes", f.taint.changes, "k=v:Effect, k:Effect- or k-")->required();
  taint_cluster_cmd->add_flag("--overwrite", f.taint.overwrite, "Allow replacing a taint with the same key and effect");
  command(taint_cluster_cmd, [&](Session& s) { return taint_cluster(s, f.taint); });

  // delete
  auto* del = app.add_subcommand("delete", "Delete a resource")->require_subcommand(1);
  auto* delete_cluster_cmd = del->add_subcommand("cluster", "Delete a cluster")->alias("clusters");
  delete_cluster_cmd->add_option("name", f.name, "Cluster name")->required();
  command(delete_cluster_cmd, [&](Session& s) { return delete_cluster(s, f.name); });
  auto* delete_token_cmd = del->add_subcommand("token", "Revoke an API token (admin)")->alias("tokens");
  delete_token_cmd->add_option("id", f.name, "Token id")->required();
  command(delete_token_cmd, [&](Session& s) { return delete_token(s, f.name); });

  // staged upgrades: rollout …, get rollouts|strategies, describe rollout, create|delete strategy
  add_rollout_commands({&app, get, describe, create, del}, command);

  // workloads: apply -f, get workloads, describe workload, delete workload
  add_workload_commands({&app, get, describe, del}, command);

  // version
  auto* version = app.add_subcommand("version", "Print the client and server versions");
  version->add_flag("--client", f.client_only, "Client version only (no server call)");
  add_output(version, f.output);
  command(version, [&](Session& s) { return version_command(s, f.client_only, f.output); });

  // config
  auto* config = app.add_subcommand("config", "View and edit the client config file")->require_subcommand(1);
  auto* view_cmd = config->add_subcommand("view", "Print the config file, tokens REDACTED unless --raw");
  view_cmd->add_flag("--raw", f.config_view.raw, "Print tokens as they are");
  view_cmd->add_flag("--minify", f.config_view.minify, "Only the context in use (--context, else the current one)");
  add_output(view_cmd, f.config_view.output);
  command(view_cmd, [&](Session& s) { return config_view(s, f.config_view); });
  auto* get_contexts_cmd = config->add_subcommand("get-contexts", "List contexts");
  command(get_contexts_cmd, [&](Session& s) { return get_contexts(s); });
  auto* current_context_cmd = config->add_subcommand("current-context", "Print the current context");
  command(current_context_cmd, [&](Session& s) { return current_context(s); });
  auto* use_context_cmd = config->add_subcommand("use-context", "Make a context the current one");
  use_context_cmd->add_option("name", f.name, "Context name")->required();
  command(use_context_cmd, [&](Session& s) { return use_context(s, f.name); });
  auto* set_context_cmd = config->add_subcommand("set-context", "Create or update a context");
  set_context_cmd->add_option("name", f.set_context.name, "Context name")->required();
  // Same names as the global overrides, so these are declared on this subcommand and read from it alone.
  set_context_cmd->add_option("--server", f.ctx_server, "fleetd URL");
  set_context_cmd->add_option("--token", f.ctx_token, "Bearer token");
  set_context_cmd->add_option("--ca-file", f.ctx_ca_file, "PEM CA bundle for an https server");
  command(set_context_cmd, [&](Session& s) {
    if (set_context_cmd->count("--server")) f.set_context.server = f.ctx_server;
    if (set_context_cmd->count("--token")) f.set_context.token = f.ctx_token;
    if (set_context_cmd->count("--ca-file")) f.set_context.ca_file = f.ctx_ca_file;
    return set_context(s, f.set_context);
  });

  // completion
  auto* completion = app.add_subcommand("completion", "Print a shell completion script: bash, zsh or fish");
  completion->add_option("shell", f.name, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  command(completion, [&](Session& s) {
    s.out() << completion_script(f.name).value_or("");
    return 0;
  });

  // get … -w and describe … -w: every command under those verbs that has no --watch of its own.
  std::map<const CLI::App*, bool> watch_flags;
  for (auto* verb : {get, describe}) {
    for (auto* cmd : verb->get_subcommands([](CLI::App*) { return true; })) {
      if (cmd->get_option_no_throw("--watch") == nullptr) {
        cmd->add_flag("-w,--watch", watch_flags[cmd], "Poll every 2 s and print again when the output changes");
      }
    }
  }

  add_help_examples(app);
  if (!args.empty() && args[0] == "__complete") {
    return complete_command(app, std::vector(args.begin() + 1, args.end()), io, env);
  }
  std::vector<const char*> argv = {"fleetctl"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, io.out, io.err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, io.out, io.err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, io.out, io.err);
  } catch (const CLI::ParseError& e) {
    // A mistyped command or flag gets its likely meaning ("did you mean"); other mistakes CLI11's own words.
    if (auto message = unknown_word_message(command_tree(app), args)) {
      io.err << *message;
    } else {
      app.exit(e, io.out, io.err);
    }
    return to_int(ExitCode::kUsage);
  }

  if (app.count("--token")) {
    // Issue #10: an argument is readable by every local user (ps, /proc/PID/cmdline) and stays in shell history.
    io.err << "warning: --token puts the token where other local users can read it; set FLEETCTL_TOKEN or store it "
              "in a context (fleetctl config set-context)\n";
  }
  GlobalOptions global;
  global.config_path = f.config_path;
  global.overrides = overrides_from(f, app, env);
  global.request_timeout_seconds = f.request_timeout;
  global.insecure_http = f.insecure_http;
  Session session(io, env, std::move(global));
  for (auto& [cmd, fn] : commands) {
    if (!cmd->parsed()) continue;
    if (auto it = watch_flags.find(cmd); it != watch_flags.end() && it->second) {
      const auto* output = cmd->get_option_no_throw("--output");
      const auto format = parse_output_format(output && output->count() ? output->as<std::string>() : "");
      const bool table = cmd->get_parent() == get && (!format || *format == OutputFormat::kTable ||
                                                      *format == OutputFormat::kWide || *format == OutputFormat::kName);
      return watch_command(session, fn, table ? WatchLayout::kRows : WatchLayout::kFrame);
    }
    return fn(session);
  }
  io.err << "error: no command given; run fleetctl --help\n";
  return to_int(ExitCode::kUsage);
}

}  // namespace

int run_fleetctl(const std::vector<std::string>& args, Io io, const Environment& env) {
  try {
    return run(args, io, env);
  } catch (const std::exception& e) {
    // A bug, not a user error; still one line and a defined exit code rather than an abort.
    io.err << "error: internal error: " << e.what() << "\n";
    return to_int(ExitCode::kClientError);
  }
}

}  // namespace fleet::ctl
