#include "fleetctl/list_output.hpp"

namespace fleet::ctl {

void print_list(Session& session, const std::vector<nlohmann::json>& items, OutputFormat format,
                const std::function<std::string(const std::vector<nlohmann::json>&)>& table) {
  if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
    session.out() << render_document(as_list(items), format);
  } else if (items.empty()) {
    session.err() << "No resources found.\n";
  } else {
    session.out() << table(items);
  }
}

}  // namespace fleet::ctl
