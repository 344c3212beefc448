#pragma once
// fleetctl's commands and flags as plain data, read once from the CLI11 definitions (app.cpp), so that the shell
// completion and the "did you mean" hints work on what the parser really accepts, and are tested without CLI11.
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace fleet::ctl {

struct FlagSpec {
  std::vector<std::string> names;    // "-o", "--output"
  bool takes_value = false;          // `--output json`; false for a switch such as `--watch`
  std::vector<std::string> choices;  // the values a CLI::IsMember check allows ("json", "yaml"), else empty
  std::string help;
  bool has_name(std::string_view name) const;
  bool takes_path() const;  // its value is a file: -f/--filename, --config, --ca-file
};

struct CommandNode {
  std::string name;
  std::vector<std::string> aliases;
  std::string help;
  std::vector<FlagSpec> flags;           // its own; the parents' flags are accepted after it too (fallthrough)
  std::vector<std::string> positionals;  // names, in order ("name", "id", "target", …)
  std::vector<CommandNode> children;

  // The child called `word` by its name or an alias; nullptr when none is.
  const CommandNode* child(std::string_view word) const;
  bool answers_to(std::string_view word) const;
};

// The tree under `app`, without hidden commands and options (those in no group).
CommandNode command_tree(const CLI::App& app);

// Where a command line leads, read as the parser reads it: the commands it names, the arguments given to the last,
// and the first word that names nothing here (an unknown command or flag), where reading stopped.
struct CommandPath {
  struct GivenFlag {
    std::string name;   // as declared: "--context", "-o"
    std::string value;  // empty for a switch
  };
  std::vector<const CommandNode*> nodes;     // the root first
  std::size_t positionals = 0;               // arguments given to the last command
  const FlagSpec* awaiting_value = nullptr;  // the words ended right after a flag that takes a value
  std::string unknown;                       // the first word that is neither a command nor a flag here
  bool unknown_is_flag = false;
  std::vector<GivenFlag> flags;

  const CommandNode& last() const { return *nodes.back(); }
  // A flag the last command accepts: its own or a parent's (flags fall through to subcommands, as with kubectl).
  const FlagSpec* find_flag(std::string_view name) const;
  std::string command_line() const;  // "fleetctl get clusters"
};
CommandPath follow(const CommandNode& root, const std::vector<std::string>& words);

}  // namespace fleet::ctl
