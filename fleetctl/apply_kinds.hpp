#pragma once
// What `apply -f` does with each kind of document (issue #16 item 5): a table of the kinds it takes, where each
// lives in the API and how it is updated, the document resolved to what is sent, and the update decided from the
// stored object. Pure: apply_command does the I/O.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "fleetctl/conditional_write.hpp"

namespace fleet::ctl {

enum class UpdateRule {
  kPatchMutable,        // cluster: PATCH the mutable members that differ; the others must already be equal
  kReplaceAlways,       // workload, override: PUT; the server's generation says whether anything changed
  kReplaceIfDifferent,  // admission policy, auto-upgrade profile: PUT unless the stored one already matches
  kCreateOnly,          // strategy, rollout, catalog entry: the API has no update; differing is an error
};

struct KindRule {
  std::string_view kind;        // the document's "kind"
  std::string_view word;        // "cluster/NAME" in the output, as `get -o name` writes it
  std::string_view collection;  // POST creates here
  UpdateRule update;
  bool keeps_kind;           // catalog entries: "kind" (kubernetes | nodeImage) is a member of their own
  std::string_view instead;  // kCreateOnly: why it cannot change and what to do instead
};

// One document, ready to apply.
struct ApplyTarget {
  const KindRule* rule = nullptr;
  nlohmann::json body;  // what POST (and PUT) sends: the document without its "kind", unless the rule keeps it
  std::string path;     // the object's own path, for GET and the update
  std::string shown;    // "cluster/gpu-east-1"
};

// `index` counts documents from 1, for messages. kInvalid (a usage error) for a missing or unknown kind, or a
// document without the members that name it.
Result<ApplyTarget> resolve_document(nlohmann::json document, std::size_t index);

// What to send so that `stored` becomes what the target describes; nullopt when it already is. An Error (nothing is
// sent) when the difference is in something that cannot change.
Result<std::optional<PlannedWrite>> plan_update(const ApplyTarget& target, const nlohmann::json& stored);

}  // namespace fleet::ctl
