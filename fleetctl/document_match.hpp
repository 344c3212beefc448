#pragma once
// Whether an object fleetd holds already is what a document (`apply -f`) describes, without asking fleetd: apply
// must say "unchanged" and send nothing for objects that cannot be updated (strategies, rollouts, catalog entries),
// and need not rewrite one that is already as described.
#include <nlohmann/json.hpp>

namespace fleet::ctl {

// True when every member the document gives matches the stored object's, recursively: members the document leaves
// out (server-set ones such as createdAt and status, and defaults the server filled in) are not compared; arrays
// must have the same length, item by item; a member the server does not hold matches only null, "" or an empty
// array or object. Scalars match when equal (numbers by value: 1 and 1.0), and with kCanonical also when they read as
// the same value in the forms fleetd accepts and writes back in another: a number and its decimal text (budgets: 1
// and "1"), durations ("90s", 90 and "1m30s"), times ("2025-11-03" and "2025-11-03T00:00:00.000Z") and dotted
// versions ("v1.32.7" and "1.32.7", "535.104.05" and "535.104.5").
enum class ScalarMatch {
  kExact,      // objects stored as given (cluster labels: "10m" and "600s" are two values)
  kCanonical,  // objects fleetd stores in a canonical form (strategies, runs, catalog entries)
};
bool document_matches(const nlohmann::json& document, const nlohmann::json& stored, ScalarMatch scalars);

}  // namespace fleet::ctl
