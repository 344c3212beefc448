#!/usr/bin/env bash
# The completion scripts in real shells (issue #16 item 5): `fleetctl completion bash` sourced in bash completes
# `fleetctl get cl<TAB>` to `clusters`, and the same for zsh and fish. Usage: completion_shells_test.sh FLEETCTL.
# bash is required; zsh and fish (scripts/setup installs both) are checked when present, else reported skipped.
set -euo pipefail
fleetctl=$(realpath "$1")
export PATH="$(dirname "$fleetctl"):$PATH" HOME=$(mktemp -d)
trap 'rm -rf "$HOME"' EXIT
failures=0
expect() {  # NAME EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then
    echo "ok: $1"
  else
    echo "FAIL: $1: expected [$2], got [$3]"
    failures=$((failures + 1))
  fi
}

# bash: the script registers _fleetctl for fleetctl; TAB after `get cl` offers clusters, after `apply -f ` files.
bash_complete() {  # WORDS… (the last is the word being completed)
  bash --norc --noprofile -c 'source <(fleetctl completion bash)
    [[ $(complete -p fleetctl) == "complete -F _fleetctl fleetctl" ]] || { echo "not registered"; exit 1; }
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _fleetctl; printf "%s\n" "${COMPREPLY[@]}"' fleetctl "$@"
}
expect "bash: fleetctl get cl<TAB>" "clusters" "$(bash_complete fleetctl get cl)"
expect "bash: fleetctl ro<TAB>" "rollout" "$(bash_complete fleetctl ro)"
expect "bash: fleetctl get clusters --no<TAB>" "--no-headers" "$(bash_complete fleetctl get clusters --no)"
mkdir -p "$HOME/work" && touch "$HOME/work/cluster.yaml"
expect "bash: fleetctl apply -f <TAB> completes files" "$HOME/work/cluster.yaml" \
  "$(bash_complete fleetctl apply -f "$HOME/work/cl")"

if command -v zsh >/dev/null; then
  # zsh: compdef and _describe are compsys's; stand-ins record what the script hands them.
  zsh_complete() {
    zsh -f -c 'compdef() { print -r -- "compdef $*" >&2 }
      _describe() { print -rl -- "${(@P)4}" }
      source <(fleetctl completion zsh)
      words=("$@"); CURRENT=$#; _fleetctl' fleetctl "$@"
  }
  expect "zsh: the script registers itself" "compdef _fleetctl fleetctl" \
    "$(zsh -f -c 'compdef() { print -r -- "compdef $*" }; source <(fleetctl completion zsh)')"
  expect "zsh: fleetctl get cl<TAB>" "clusters:List clusters, or show one by name" \
    "$(zsh_complete fleetctl get cl 2>/dev/null)"
else
  echo "skipped: zsh not installed (scripts/setup installs it)"
fi

if command -v fish >/dev/null; then
  # fish: its own completion machinery (complete -C) with the script loaded.
  fish_complete() { fish --no-config -c "fleetctl completion fish | source; complete -C '$1'"; }
  expect "fish: fleetctl get cl<TAB>" $'clusters\tList clusters, or show one by name' "$(fish_complete 'fleetctl get cl')"
  expect "fish: fleetctl <TAB> offers every command" "rollout" "$(fish_complete 'fleetctl ' | cut -f1 | grep -x rollout)"
else
  echo "skipped: fish not installed (scripts/setup installs it)"
fi

((failures == 0)) || { echo "$failures completion checks failed"; exit 1; }
echo "all completion checks passed"
