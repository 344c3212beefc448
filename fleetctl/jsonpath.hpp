#pragma once
// kubectl's JSONPath templates (-o jsonpath=…, --sort-by=…) as pure functions over nlohmann::json. The subset:
// literal text (with \n, \t and \\ escapes), `{.a.b}`, `{.items[0].x}`, `{.items[*].name}`, `{.items[-1]}`,
// `{.items[1:3]}`, `{.labels['k.io/x']}`, `{.*}`, `{..name}` (recursive descent), `{@}`/`{$}`, `{"\n"}` (a quoted
// string) and `{range .items[*]}…{end}` (nestable). Inside a range, paths are relative to the current item.
//
// fleetd's objects are flat: what kubectl keeps under `metadata`, `spec` and `status` is at the top level. So that
// kubectl habits work, `.metadata`, `.spec` and `.status` on an object without that member are the object itself:
// `{.items[*].metadata.name}` and `--sort-by=.metadata.name` read `name`.
//
// A missing key or index prints nothing (kubectl's --allow-missing-template-keys=true). Strings print as they are,
// other values as compact JSON; several results of one expression are separated by a space.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::ctl {

class JsonPathTemplate {
 public:
  // kInvalid with the position and what was expected, on a syntax error.
  static Result<JsonPathTemplate> parse(std::string_view text);
  std::string render(const nlohmann::json& document) const;

  struct Node;  // the parsed template, defined in jsonpath.cpp

 private:
  std::shared_ptr<const std::vector<Node>> nodes_;
};

// Every value `path` selects in `document`; `path` is one expression, with or without braces (".a.b", "{.a.b}").
Result<std::vector<nlohmann::json>> jsonpath_select(std::string_view path, const nlohmann::json& document);

// Sorts by the first value `path` selects in each item: numbers numerically, then strings lexically, then other
// values by their JSON text, and items where the path selects nothing (or null) last. Stable. kInvalid on a bad path.
Status sort_by_jsonpath(std::vector<nlohmann::json>& items, std::string_view path);

}  // namespace fleet::ctl
