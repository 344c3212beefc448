#pragma once
// JSON paths for Error::field and messages: `labels.env`, `labels."app.kubernetes.io/name"`, `taints[2].effect`.
// Keys that are not plain identifiers are quoted so that a path is unambiguous even when a key holds dots.
#include <cstddef>
#include <string>
#include <string_view>

namespace fleet::model {

// `parent` + member `key`; an empty parent yields just the (possibly quoted) key.
std::string member_path(std::string_view parent, std::string_view key);
// `parent[index]`.
std::string index_path(std::string_view parent, std::size_t index);

}  // namespace fleet::model
