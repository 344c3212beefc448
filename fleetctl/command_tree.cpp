#include "fleetctl/command_tree.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>

namespace fleet::ctl {
namespace {

// CLI::IsMember's part of an option's type name, "TEXT:{json,yaml}", as its values.
std::vector<std::string> choices_of(const std::string& type_name) {
  const auto open = type_name.find(":{");
  const auto close = type_name.find('}', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return {};
  std::vector<std::string> out;
  std::string_view list(type_name.data() + open + 2, close - open - 2);
  while (!list.empty()) {
    const auto comma = list.find(',');
    out.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

FlagSpec flag_spec(const CLI::Option& option) {
  FlagSpec flag;
  for (const auto& s : option.get_snames()) flag.names.push_back("-" + s);
  for (const auto& l : option.get_lnames()) flag.names.push_back("--" + l);
  flag.takes_value = option.get_items_expected_max() > 0;
  if (flag.takes_value) flag.choices = choices_of(option.get_type_name());
  flag.help = option.get_description();
  return flag;
}

}  // namespace

bool FlagSpec::has_name(std::string_view name) const {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool FlagSpec::takes_path() const {
  return takes_value && (has_name("--filename") || has_name("--config") || has_name("--ca-file"));
}

bool CommandNode::answers_to(std::string_view word) const {
  return name == word || std::find(aliases.begin(), aliases.end(), word) != aliases.end();
}

const CommandNode* CommandNode::child(std::string_view word) const {
  for (const auto& c : children) {
    if (c.answers_to(word)) return &c;
  }
  return nullptr;
}

CommandNode command_tree(const CLI::App& app) {
  CommandNode node;
  node.name = app.get_name();
  node.aliases = app.get_aliases();
  node.help = app.get_description();
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_group().empty()) continue;  // hidden
    if (option->nonpositional()) {
      node.flags.push_back(flag_spec(*option));
    } else {
      node.positionals.push_back(option->get_name(true));
    }
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
    node.children.push_back(command_tree(*sub));
  }
  return node;
}

const FlagSpec* CommandPath::find_flag(std::string_view name) const {
  for (auto node = nodes.rbegin(); node != nodes.rend(); ++node) {
    for (const auto& flag : (*node)->flags) {
      if (flag.has_name(name)) return &flag;
    }
  }
  return nullptr;
}

std::string CommandPath::command_line() const {
  std::string out;
  for (const CommandNode* node : nodes) out += (out.empty() ? "" : " ") + node->name;
  return out;
}

CommandPath follow(const CommandNode& root, const std::vector<std::string>& words) {
  CommandPath path;
  path.nodes.push_back(&root);
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word.size() > 1 && word[0] == '-') {
      // --name=value, -ovalue, or a name whose value is the next word.
      const bool long_form = word.starts_with("--");
      const auto equals = long_form ? word.find('=') : std::string::npos;
      const std::string name = long_form ? word.substr(0, equals) : word.substr(0, 2);
      const FlagSpec* flag = path.find_flag(name);
      if (flag == nullptr) {
        path.unknown = name;
        path.unknown_is_flag = true;
        return path;
      }
      std::string value;
      if (flag->takes_value) {
        if (long_form && equals != std::string::npos) {
          value = word.substr(equals + 1);
        } else if (!long_form && word.size() > 2) {
          value = word.substr(2);
        } else if (i + 1 < words.size()) {
          value = words[++i];
        } else {
          path.awaiting_value = flag;
        }
      }
      path.flags.push_back({name, value});
      continue;
    }
    const CommandNode& here = path.last();
    if (const CommandNode* sub = path.positionals == 0 ? here.child(word) : nullptr) {
      path.nodes.push_back(sub);
      continue;
    }
    if (!here.children.empty() && here.positionals.empty()) {
      path.unknown = word;  // a command was expected here
      return path;
    }
    path.positionals++;
  }
  return path;
}

}  // namespace fleet::ctl
