#include "fleetctl/suggest.hpp"

#include <algorithm>
#include <numeric>

namespace fleet::ctl {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment, three rows: a swap of two neighbours ("gte") is one typo, not two.
  std::vector<std::size_t> before(b.size() + 1);
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  std::iota(previous.begin(), previous.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    before.swap(previous);
    previous.swap(current);
  }
  return previous[b.size()];
}

std::vector<std::string> close_matches(std::string_view word, const std::vector<std::string>& candidates) {
  constexpr std::size_t kMaxShown = 3;
  // One typo in three letters at most, and never more than two: "clus" is not "gpus".
  const std::size_t max_edits = std::clamp<std::size_t>(word.size() / 3, 1, 2);
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& candidate : candidates) {
    std::size_t distance = edit_distance(word, candidate);
    if (word.size() >= 2 && candidate.starts_with(word)) distance = std::min(distance, max_edits);
    if (distance <= max_edits && distance < candidate.size()) scored.emplace_back(distance, candidate);
  }
  // Closest first; between equals the shorter (the prefix "clu" is nearer "cluster" than "clusters").
  std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : x.second.size() < y.second.size();
  });
  std::vector<std::string> out;
  for (auto& [distance, name] : scored) {
    if (std::find(out.begin(), out.end(), name) == out.end() && out.size() < kMaxShown) out.push_back(name);
  }
  return out;
}

namespace {

// What may stand where the unknown word stands: the commands here (names and aliases), or every flag name the
// command accepts, its parents' included.
std::vector<std::string> names_expected(const CommandPath& path) {
  std::vector<std::string> out;
  if (path.unknown_is_flag) {
    for (const CommandNode* node : path.nodes) {
      for (const auto& flag : node->flags) out.insert(out.end(), flag.names.begin(), flag.names.end());
    }
    return out;
  }
  for (const auto& child : path.last().children) {
    out.push_back(child.name);
    out.insert(out.end(), child.aliases.begin(), child.aliases.end());
  }
  return out;
}

}  // namespace

std::optional<std::string> unknown_word_message(const CommandNode& root, const std::vector<std::string>& args) {
  const CommandPath path = follow(root, args);
  if (path.unknown.empty()) return std::nullopt;
  const std::string where = path.command_line();
  std::string message = "error: unknown " + std::string(path.unknown_is_flag ? "flag" : "command") + " \"" +
                        path.unknown + "\" for \"" + where + "\"\n";
  if (const auto matches = close_matches(path.unknown, names_expected(path)); !matches.empty()) {
    message += "\nDid you mean " + std::string(matches.size() == 1 ? "this" : "one of these") + "?\n";
    for (const auto& m : matches) message += "\t" + m + "\n";
    message += "\n";
  }
  message += "Run '" + where + " --help' for usage.\n";
  return message;
}

}  // namespace fleet::ctl
