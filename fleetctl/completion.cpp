#include "fleetctl/completion.hpp"

#include <algorithm>
#include <array>

namespace fleet::ctl {
namespace {

// The flags that say which fleetd to ask; passed on to `get … -o name` when completing a resource name.
constexpr std::array<std::string_view, 6> kConnectionFlags = {"--config", "--context", "--server",
                                                              "--token",  "--ca-file", "--insecure-http"};

// The `get` command that lists what the last command's next argument names, or "" when it names nothing listable:
// `describe cluster X` and `rollout status X` name what `get clusters` and `get rollouts` list; `create` and
// `apply` name something new.
std::string names_for(const CommandNode& root, const CommandPath& path) {
  const CommandNode& command = path.last();
  if (path.nodes.size() < 2 || path.positionals >= command.positionals.size()) return "";
  const std::string& argument = command.positionals[path.positionals];
  if (argument != "name" && argument != "id") return "";
  const std::string& verb = path.nodes[1]->name;
  if (verb == "create" || verb == "apply" || verb == "config" || verb == "completion") return "";
  const CommandNode* get = root.child("get");
  if (get == nullptr) return "";
  for (auto node = path.nodes.rbegin(); node != path.nodes.rend() - 1; ++node) {
    if (const CommandNode* listed = get->child((*node)->name)) return listed->name;
  }
  return "";
}

void add_flags(const CommandPath& path, Completion& out) {
  for (const CommandNode* node : path.nodes) {
    for (const auto& flag : node->flags) {
      for (const auto& name : flag.names) out.candidates.emplace_back(name, flag.help);
    }
  }
}

void keep_prefixed(std::string_view word, Completion& out) {
  std::erase_if(out.candidates, [word](const auto& c) { return !c.first.starts_with(word); });
}

}  // namespace

Completion complete(const CommandNode& root, const std::vector<std::string>& words) {
  Completion out;
  const std::string word = words.empty() ? "" : words.back();
  const CommandPath path = follow(root, words.empty() ? words : std::vector(words.begin(), words.end() - 1));
  if (!path.unknown.empty()) return out;  // after a typo, nothing sensible follows
  for (const auto& given : path.flags) {
    if (std::find(kConnectionFlags.begin(), kConnectionFlags.end(), given.name) == kConnectionFlags.end()) continue;
    out.connection.push_back(given.name);
    if (!given.value.empty()) out.connection.push_back(given.value);
  }
  if (const FlagSpec* flag = path.awaiting_value) {
    out.files = flag->takes_path();
    for (const auto& choice : flag->choices) out.candidates.emplace_back(choice, "");
  } else if (word.starts_with("-")) {
    add_flags(path, out);
  } else if (!path.last().children.empty() && path.positionals == 0) {
    for (const auto& child : path.last().children) out.candidates.emplace_back(child.name, child.help);
  } else {
    out.names_of = names_for(root, path);
  }
  keep_prefixed(word, out);
  return out;
}

std::string render_completion(const Completion& completion) {
  std::string out;
  for (const auto& [word, description] : completion.candidates) {
    out += word;
    if (!description.empty()) out += "\t" + description;
    out += "\n";
  }
  if (completion.files) out += ":files\n";
  return out;
}

std::optional<std::string> completion_script(std::string_view shell) {
  if (shell == "bash") {
    return R"(# fleetctl completion for bash. Load it with:  source <(fleetctl completion bash)
# or save it as /etc/bash_completion.d/fleetctl. fleetctl itself answers each TAB (fleetctl __complete …).
_fleetctl() {
  local cur=${COMP_WORDS[COMP_CWORD]} line IFS=$'\n'
  local -a lines
  lines=($("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
  COMPREPLY=()
  for line in "${lines[@]}"; do
    if [[ $line == ":files" ]]; then
      compopt -o filenames 2>/dev/null
      COMPREPLY+=($(compgen -f -- "$cur"))
    else
      COMPREPLY+=("${line%%$'\t'*}")
    fi
  done
}
complete -F _fleetctl fleetctl
)";
  }
  if (shell == "zsh") {
    return R"(#compdef fleetctl
# fleetctl completion for zsh. Load it with:  source <(fleetctl completion zsh)   (after compinit)
# or save it as _fleetctl in a folder of $fpath. fleetctl itself answers each TAB (fleetctl __complete …).
_fleetctl() {
  local -a lines described
  local line
  lines=("${(@f)$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  for line in "${lines[@]}"; do
    [[ -z $line ]] && continue
    if [[ $line == ":files" ]]; then
      _files
      return
    fi
    if [[ $line == *$'\t'* ]]; then
      described+=("${${line%%$'\t'*}//:/\\:}:${line#*$'\t'}")
    else
      described+=("${line//:/\\:}")
    fi
  done
  (( ${#described} )) && _describe -t fleetctl 'fleetctl' described
}
if [[ "${funcstack[1]}" == "_fleetctl" ]]; then
  _fleetctl "$@"
else
  compdef _fleetctl fleetctl
fi
)";
  }
  if (shell == "fish") {
    return R"(# fleetctl completion for fish. Load it with:  fleetctl completion fish | source
# or save it as ~/.config/fish/completions/fleetctl.fish. fleetctl itself answers each TAB (fleetctl __complete …).
function __fleetctl_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    for line in ($words[1] __complete $words[2..-1] "$current" 2>/dev/null)
        if test "$line" = ":files"
            __fish_complete_path (commandline -ct)
        else
            echo $line
        end
    end
end
complete -c fleetctl -f -a '(__fleetctl_complete)'
)";
  }
  return std::nullopt;
}

}  // namespace fleet::ctl
