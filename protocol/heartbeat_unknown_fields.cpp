#include "protocol/heartbeat_unknown_fields.hpp"

#include <initializer_list>
#include <string_view>

#include "common/utf8.hpp"
#include "model/field_path.hpp"

namespace fleet::protocol {
namespace {

using nlohmann::json;

// The shape of what the decoders read: each known member, and what is inside it when it is searched further.
struct Shape {
  struct Member {
    std::string_view name;
    const Shape* inner = nullptr;  // nullptr: a leaf, or a part searched no further
    bool array = false;            // inner applies to each element
  };
  std::initializer_list<Member> members;
};

// Mirrors model/inventory.cpp and protocol/inventory_delta.cpp; heartbeat_unknown_fields_test.cpp checks that
// everything the encoders write is known here.
const Shape kResources{{{"cpuMillicores"}, {"memoryBytes"}, {"gpus"}}};
const Shape kGpu{
    {{"index"}, {"uuid"}, {"model"}, {"memoryBytes"}, {"driverVersion"}, {"cudaVersion"}, {"migMode"}, {"health"}}};
const Shape kNode{{{"name"},
                   {"pool"},
                   {"kubernetesVersion"},
                   {"nodeImageVersion"},
                   {"schedulable"},
                   {"admission"},
                   {"labels"},
                   {"taints"},
                   {"capacity", &kResources},
                   {"allocatable", &kResources},
                   {"allocated", &kResources},
                   {"gpus", &kGpu, true}}};
const Shape kInventory{{{"kubernetesVersion"}, {"nodeImageVersion"}, {"nodes", &kNode, true}}};
const Shape kDelta{
    {{"kubernetesVersion"}, {"nodeImageVersion"}, {"added", &kNode, true}, {"changed", &kNode, true}, {"removed"}}};
const Shape kEnvelope{{{"agentVersion"},
                       {"sequence"},
                       {"full"},
                       {"inventory", &kInventory},
                       {"delta", &kDelta},
                       {"probeResults"},
                       {"unguardedNodes"},
                       {"workloadStatuses"}}};

void search(const json& j, const Shape& shape, const std::string& path, std::size_t limit,
            std::vector<std::string>& out) {
  if (!j.is_object()) return;  // the decoder refuses it; nothing to report
  for (const auto& [key, value] : j.items()) {
    if (out.size() >= limit) return;
    const Shape::Member* known = nullptr;
    for (const auto& m : shape.members) {
      if (m.name == key) known = &m;
    }
    if (!known) {
      out.push_back(model::member_path(path, truncate_utf8(key, 64)));
      continue;
    }
    if (!known->inner) continue;
    const std::string here = model::member_path(path, key);
    if (!known->array) {
      search(value, *known->inner, here, limit, out);
    } else if (value.is_array()) {
      for (std::size_t i = 0; i < value.size() && out.size() < limit; ++i) {
        search(value[i], *known->inner, model::index_path(here, i), limit, out);
      }
    }
  }
}

}  // namespace

std::vector<std::string> unknown_heartbeat_fields(const json& body, std::size_t limit) {
  std::vector<std::string> out;
  search(body, kEnvelope, "", limit, out);
  return out;
}

}  // namespace fleet::protocol
