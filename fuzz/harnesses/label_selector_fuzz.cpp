// The label-selector parser (?labelSelector= on every list route, and stage selectors in rollout strategies).
#include "fuzz/fuzz_target.hpp"
#include "model/label_selector.hpp"

FLEET_FUZZ_HARNESS(label_selector) {
  using namespace fleet;
  auto selector = model::parse_label_selector(data);
  if (!selector) {
    FUZZ_CHECK(!selector.error().message.empty());
    return;
  }
  // What parses prints back to text that parses to the same selector (fleetctl and the audit log show it).
  const std::string text = model::to_string(*selector);
  auto again = model::parse_label_selector(text);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *selector);
  (void)model::to_sql_json(*selector);
  (void)model::matches(*selector, model::Labels{{"env", "prod"}, {"gpu", "h100"}});
}
