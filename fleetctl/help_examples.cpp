#include "fleetctl/help_examples.hpp"

#include <CLI/CLI.hpp>
#include <array>
#include <utility>

namespace fleet::ctl {
namespace {

using Example = std::pair<std::string_view, std::string_view>;  // command path, examples (one a line)

constexpr std::array kExamples = {
    Example{"",
            "fleetctl get clusters\n"
            "fleetctl get gpus --admission quarantined\n"
            "fleetctl rollout status k8s-1-31 -w\n"
            "fleetctl completion bash > /etc/bash_completion.d/fleetctl"},
    Example{"get", "fleetctl get clusters -l env=prod\nfleetctl get nodes --cluster gpu-east-1\nfleetctl get rollouts"},
    Example{"get clusters",
            "fleetctl get clusters\n"
            "fleetctl get clusters -l env=prod,region=westeurope -o wide\n"
            "fleetctl get clusters --sort-by .createdAt -o name\n"
            "fleetctl get clusters gpu-east-1 -o yaml\n"
            "fleetctl get clusters -o jsonpath='{range .items[*]}{.name}{\"\\t\"}{.state}{\"\\n\"}{end}'\n"
            "fleetctl get clusters -w"},
    Example{"get tokens", "fleetctl get tokens\nfleetctl get tokens -o json"},
    Example{"get nodes",
            "fleetctl get nodes\nfleetctl get nodes --cluster gpu-east-1 -o wide\n"
            "fleetctl get nodes --no-headers | wc -l"},
    Example{"get gpus",
            "fleetctl get gpus\nfleetctl get gpus --admission quarantined\n"
            "fleetctl get gpus --model \"NVIDIA H100 80GB HBM3\" --health unhealthy"},
    Example{"get probes",
            "fleetctl get probes --verdict fail\n"
            "fleetctl get probes --cluster gpu-east-1 --since 2026-12-01T00:00:00Z\n"
            "fleetctl get probes --check hbm_bandwidth -o json"},
    Example{"get versions",
            "fleetctl get versions\nfleetctl get versions --kind nodeImage --provider aks\n"
            "fleetctl get versions --include-retired"},
    Example{"get rollouts", "fleetctl get rollouts\nfleetctl get rollouts k8s-1-31 -o yaml"},
    Example{"get strategies", "fleetctl get strategies\nfleetctl get strategies canary-then-all -o yaml"},
    Example{"get auto-upgrade-profiles",
            "fleetctl get auto-upgrade-profiles\nfleetctl get auto-upgrade-profiles stable-prod -o yaml\n"
            "fleetctl apply -f stable-prod.yaml   # kind: AutoUpgradeProfile"},
    Example{"get workloads", "fleetctl get workloads\nfleetctl get workloads llm-serve -o yaml"},
    Example{"get overrides", "fleetctl get overrides\nfleetctl get overrides --workload llm-serve -o yaml"},
    Example{"describe", "fleetctl describe cluster gpu-east-1\nfleetctl describe node gpu-east-1/aks-gpu-0"},
    Example{"describe cluster", "fleetctl describe cluster gpu-east-1\nfleetctl describe cluster gpu-east-1 -w"},
    Example{"describe node",
            "fleetctl describe node gpu-east-1/aks-gpu-0\n"
            "fleetctl describe node gpu-east-1/aks-gpu-0 -o json"},
    Example{"describe rollout", "fleetctl describe rollout k8s-1-31"},
    Example{"describe workload", "fleetctl describe workload llm-serve"},
    Example{"describe placement", "fleetctl describe placement llm-serve"},
    Example{"describe override", "fleetctl describe override llm-serve-per-region"},
    Example{"probe", "fleetctl probe node gpu-east-1/aks-gpu-0 --reason \"after a driver update\""},
    Example{"probe node", "fleetctl probe node gpu-east-1/aks-gpu-0 --reason \"after a driver update\""},
    Example{"admit", "fleetctl admit node gpu-east-1/aks-gpu-0 --reason \"known-good after vendor RMA\""},
    Example{"admit node", "fleetctl admit node gpu-east-1/aks-gpu-0 --reason \"known-good after vendor RMA\""},
    Example{"quarantine", "fleetctl quarantine node gpu-east-1/aks-gpu-0 --reason \"XID 79 in dmesg\""},
    Example{"quarantine node", "fleetctl quarantine node gpu-east-1/aks-gpu-0 --reason \"XID 79 in dmesg\""},
    Example{"create",
            "fleetctl create cluster gpu-east-1 --provider aks --region eastus\n"
            "fleetctl create bootstrap-token --cluster gpu-east-1"},
    Example{"create cluster",
            "fleetctl create cluster gpu-east-1 --provider aks --region eastus --label env=prod\n"
            "fleetctl create cluster edge-7 --provider arc --update-group canary\n"
            "fleetctl create cluster -f cluster.json"},
    Example{"create token",
            "fleetctl create token --role viewer --description \"grafana\"\n"
            "fleetctl create token --role operator -o json"},
    Example{"create bootstrap-token",
            "fleetctl create bootstrap-token --cluster gpu-east-1\n"
            "fleetctl create bootstrap-token --cluster gpu-east-1 --ttl 1h -o json"},
    Example{"create strategy", "fleetctl create strategy -f canary-then-all.yaml"},
    Example{"label", "fleetctl label cluster gpu-east-1 env=prod tier-"},
    Example{"label cluster",
            "fleetctl label cluster gpu-east-1 env=prod\n"
            "fleetctl label cluster gpu-east-1 tier-\n"
            "fleetctl label cluster gpu-east-1 env=staging --overwrite"},
    Example{"taint", "fleetctl taint cluster gpu-east-1 maintenance=true:NoSchedule"},
    Example{"taint cluster",
            "fleetctl taint cluster gpu-east-1 maintenance=true:NoSchedule\n"
            "fleetctl taint cluster gpu-east-1 maintenance:NoSchedule-"},
    Example{"delete", "fleetctl delete cluster edge-7\nfleetctl delete workload llm-serve"},
    Example{"delete cluster", "fleetctl delete cluster edge-7"},
    Example{"delete token", "fleetctl delete token 42"},
    Example{"delete strategy", "fleetctl delete strategy canary-then-all"},
    Example{"delete auto-upgrade-profile", "fleetctl delete auto-upgrade-profile stable-prod"},
    Example{"delete workload", "fleetctl delete workload llm-serve"},
    Example{"delete override", "fleetctl delete override llm-serve-per-region"},
    Example{"rollout",
            "fleetctl rollout plan -f k8s-1-31.yaml\nfleetctl rollout create -f k8s-1-31.yaml\n"
            "fleetctl rollout start k8s-1-31\nfleetctl rollout status k8s-1-31 -w"},
    Example{"rollout plan", "fleetctl rollout plan -f k8s-1-31.yaml\nfleetctl rollout plan k8s-1-31 -o json"},
    Example{"rollout create",
            "fleetctl rollout create -f k8s-1-31.yaml\n"
            "cat k8s-1-31.yaml | fleetctl rollout create -f -"},
    Example{"rollout start", "fleetctl rollout start k8s-1-31"},
    Example{"rollout pause", "fleetctl rollout pause k8s-1-31 --reason \"error budget spent\""},
    Example{"rollout resume", "fleetctl rollout resume k8s-1-31"},
    Example{"rollout abort", "fleetctl rollout abort k8s-1-31 --reason \"regression in 1.31.2\""},
    Example{"rollout retry", "fleetctl rollout retry k8s-1-31"},
    Example{"rollout rollback",
            "fleetctl rollout rollback k8s-1-31 --cluster aks-westeurope-1 --reason \"p99 regressed\""},
    Example{"rollout skip",
            "fleetctl rollout skip k8s-1-31 --member edge-7 --reason \"stopped for the winter\"\n"
            "fleetctl rollout skip k8s-1-31 --wait prod"},
    Example{"rollout approve", "fleetctl rollout approve k8s-1-31 --gate canary-sign-off"},
    Example{"rollout events", "fleetctl rollout events k8s-1-31\nfleetctl rollout events k8s-1-31 -o json"},
    Example{"rollout status", "fleetctl rollout status k8s-1-31\nfleetctl rollout status k8s-1-31 -w"},
    Example{"apply",
            "fleetctl apply -f llm-serve.yaml\nfleetctl apply -f fleet.yaml -o json\n"
            "cat cluster.json | fleetctl apply -f -"},
    Example{"version", "fleetctl version\nfleetctl version --client -o json"},
    Example{"config", "fleetctl config view\nfleetctl config use-context prod"},
    Example{"config view", "fleetctl config view\nfleetctl config view --minify --raw -o json"},
    Example{"config get-contexts", "fleetctl config get-contexts"},
    Example{"config current-context", "fleetctl config current-context"},
    Example{"config use-context", "fleetctl config use-context prod"},
    Example{"config set-context",
            "fleetctl config set-context prod --server https://fleet.example.com:8443 "
            "--ca-file ca.pem\n"
            "FLEETCTL_TOKEN=… fleetctl get clusters --context prod"},
    Example{"completion",
            "source <(fleetctl completion bash)\n"
            "fleetctl completion zsh > \"${fpath[1]}/_fleetctl\"\n"
            "fleetctl completion fish > ~/.config/fish/completions/fleetctl.fish"},
};

void add_to(CLI::App& app, const std::string& path) {
  if (const std::string_view examples = help_examples(path); !examples.empty()) {
    std::string footer = "Examples:\n";
    std::size_t at = 0;
    while (at <= examples.size()) {
      const auto end = std::min(examples.find('\n', at), examples.size());
      footer += "  ";
      footer += examples.substr(at, end - at);
      footer += "\n";
      at = end + 1;
    }
    footer.pop_back();  // CLI11 ends the help with a newline of its own
    app.footer(footer);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    add_to(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name());
  }
}

}  // namespace

std::string_view help_examples(std::string_view path) {
  for (const auto& [command, examples] : kExamples) {
    if (command == path) return examples;
  }
  return {};
}

void add_help_examples(CLI::App& app) {
  add_to(app, "");
}

}  // namespace fleet::ctl
