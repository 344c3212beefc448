#pragma once
// "Did you mean": a typo in a command or flag name gets the names it was probably meant to be, as kubectl (cobra)
// and git do, instead of CLI11's bare "A subcommand is required".
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fleetctl/command_tree.hpp"

namespace fleet::ctl {

// Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`: "gte" → "get" is 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidates within one edit per three letters of `word` (1 or 2), or that start with it (2 letters or more),
// closest first; at most 3.
std::vector<std::string> close_matches(std::string_view word, const std::vector<std::string>& candidates);

// The message for a command line whose first unknown word is a command or flag name, with its close matches and
// where to get help; nullopt when every word names something (the parser's own message then says what is wrong).
std::optional<std::string> unknown_word_message(const CommandNode& root, const std::vector<std::string>& args);

}  // namespace fleet::ctl
