#pragma once
// A count given as a number or as a percent of a scope: `maxConcurrency` ("1", 1, "50%") and `maxFailures`
// ("10%", 0). Percents are of the scope's members, rounded down; a concurrency never resolves below 1 (a stage must
// make progress), a failure limit may resolve to 0.
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace fleet::rollout {

struct Budget {
  int value = 0;
  bool percent = false;
  bool operator==(const Budget&) const = default;

  // Of a scope of `members`: value, or floor(members * value / 100).
  int resolve(int members) const;
  // resolve(), at least 1.
  int resolve_concurrency(int members) const { return resolve(members) < 1 ? 1 : resolve(members); }
};

// A non-negative integer, its decimal text, or "N%" with 0 <= N <= 100. kInvalid naming `path` otherwise.
Result<Budget> budget_from_json(const nlohmann::json& j, const std::string& path);
nlohmann::json to_json(const Budget& b);  // "50%" or "3", as written in DESIGN §6
std::string to_string(const Budget& b);

}  // namespace fleet::rollout
