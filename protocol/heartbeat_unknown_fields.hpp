#pragma once
// The members of a heartbeat that fleetd does not know. A newer agent may send fields this fleetd predates;
// refusing them would cut that agent off, and dropping them without a word hides a version skew (issue #10). So
// the heartbeat is accepted and the answer names what was ignored (a `Warning` header, as Kubernetes does for
// unknown fields), and fleetd counts them. Pure: the JSON in, the paths out.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::protocol {

inline constexpr std::size_t kMaxUnknownFieldsReported = 10;

// JSON paths ("inventory.nodes[3].conditions") of object members no decoder of the envelope reads: the envelope,
// the inventory and its nodes, GPUs and resource lists, and the delta with its entries. Free-form maps (labels)
// and the parts whose decoders refuse unknown members anyway (probe results, unguarded nodes, taints) are not
// searched. At most `limit` paths, members in name order; each name cut to 64 bytes.
std::vector<std::string> unknown_heartbeat_fields(const nlohmann::json& body,
                                                  std::size_t limit = kMaxUnknownFieldsReported);

}  // namespace fleet::protocol
