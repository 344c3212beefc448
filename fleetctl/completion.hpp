#pragma once
// Shell completion, kubectl style: `fleetctl completion bash|zsh|fish` prints a small script that asks fleetctl
// itself (`fleetctl __complete WORDS… CURRENT`) what may come next, so the scripts never go stale and the logic
// lives here, tested. Resource names (get clusters <TAB>) come from the server through `get … -o name`.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fleetctl/command_tree.hpp"

namespace fleet::ctl {

struct Completion {
  std::vector<std::pair<std::string, std::string>> candidates;  // word, description (may be empty)
  bool files = false;                                           // the word is a file name: the shell completes paths
  std::string names_of;  // non-empty: the word names one of these (a `get` command: "clusters", "rollouts")
  std::vector<std::string> connection;  // the connection flags given (--config F --context C …), for that lookup
};

// `words` are the command line after "fleetctl"; the last is the word being completed ("" after a space).
Completion complete(const CommandNode& root, const std::vector<std::string>& words);

// What `__complete` prints: one candidate a line, "word\tdescription"; a last line ":files" asks for paths.
std::string render_completion(const Completion& completion);

// The script for `shell` ("bash", "zsh", "fish"); nullopt for any other.
std::optional<std::string> completion_script(std::string_view shell);

}  // namespace fleet::ctl
