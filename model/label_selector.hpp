#pragma once
// Kubernetes equality- and set-based label selectors (`env=prod,tier notin (gold),!gpu`), parsed once at the
// HTTP edge, evaluated in memory by `matches` or in PostgreSQL by fleet_labels_match (migrations/0001_init.sql)
// from `to_sql_json`. The two evaluators must agree; tests pin the in-memory one to Kubernetes semantics.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "model/cluster.hpp"

namespace fleet::model {

inline constexpr std::size_t kMaxSelectorBytes = 4096;
inline constexpr std::size_t kMaxSelectorRequirements = 32;
inline constexpr std::size_t kMaxSelectorValues = 64;

struct LabelRequirement {
  enum class Op {
    kEquals,        // `k=v`, `k==v`
    kNotEquals,     // `k!=v`: also true when the key is absent
    kIn,            // `k in (a,b)`
    kNotIn,         // `k notin (a,b)`: also true when the key is absent
    kExists,        // `k`
    kDoesNotExist,  // `!k`
  };
  std::string key;
  Op op = Op::kExists;
  // kEquals/kNotEquals: exactly one; kIn/kNotIn: one or more, sorted and unique (as Kubernetes' string set);
  // kExists/kDoesNotExist: none. A value may be empty: `k=` means "k is set to the empty string".
  std::vector<std::string> values;
  bool operator==(const LabelRequirement&) const = default;
};

// All requirements must hold (AND). No requirements selects everything.
struct LabelSelector {
  std::vector<LabelRequirement> requirements;
  bool empty() const { return requirements.empty(); }
  bool operator==(const LabelSelector&) const = default;
};

// The full Kubernetes grammar. Errors are kInvalid / `invalid-query` with field "labelSelector", naming the byte
// offset and the token at fault. Keys and values follow the label rules of api/names.hpp.
Result<LabelSelector> parse_label_selector(std::string_view text);

bool matches(const LabelSelector& selector, const model::Labels& labels);

// `[{"key": k, "op": "="|"!="|"in"|"notin"|"exists"|"!", "values": [...]}]`, the input of fleet_labels_match.
nlohmann::json to_sql_json(const LabelSelector& selector);

// Canonical text (`==` written as `=`); parse_label_selector(to_string(s)) == s.
std::string to_string(const LabelSelector& selector);

}  // namespace fleet::model
