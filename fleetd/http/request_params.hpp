#pragma once
// Query and header parameters the endpoints share: `limit`, `continue` and `labelSelector` of the lists, filters,
// and If-Match. Errors are kInvalid with the problem slugs of docs/api.md (`invalid-query`, `malformed-request`).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/continue_token.hpp"
#include "common/error.hpp"
#include "fleetd/http/call.hpp"
#include "model/label_selector.hpp"

namespace fleet {

// The `limit` query parameter of a list: a whole number from 1 to `max`, else invalid-query naming the range.
Result<int> parse_limit(const std::string& value, int max);

// If-Match: "<n>", <n>, W/"<n>" or *. nullopt when absent or *; an Error when malformed.
Result<std::optional<std::int64_t>> parse_if_match(const Call& call);

// What a list endpoint accepts besides limit and continue.
struct ListParamSpec {
  int default_limit = 100;
  int max_limit = 1000;
  bool label_selector = false;       // accepts labelSelector
  std::vector<std::string> filters;  // other keys, each a string of at most 253 bytes, in the order messages name them
};

struct ListParams {
  int limit = 100;
  std::optional<std::string> after;  // what the continue token carried (the endpoint reads it)
  std::optional<model::LabelSelector> selector;
  std::map<std::string, std::string> filters;  // the filters given
};

// The call's query against `spec`: an unknown key, a bad limit, a continue token fleetd did not write, a bad
// selector or an over-long filter value → invalid-query naming the parameter.
Result<ListParams> parse_list_params(const Call& call, const ListParamSpec& spec);

// A list in `seq` order (rollouts, rollout and workload events): its limit, and the seq its continue token carries
// (0 without one). parse_list_params' errors, and invalid-query for a token that carries no positive number.
struct SeqListParams {
  int limit = 0;
  std::int64_t seq = 0;
};
Result<SeqListParams> parse_seq_list_params(const Call& call, const ListParamSpec& spec);

// The event lists' limits (rollout and workload events).
inline const ListParamSpec kEventListSpec{500, 5000, false, {}};

// The body of such a list from rows read with limit + 1: {"items": the first `limit` rows as `item` writes them,
// "continue": a token naming the last of them, only when a row was left over}.
template <class Row, class Item>
nlohmann::json seq_page(const std::vector<Row>& rows, int limit, const Item& item) {
  nlohmann::json items = nlohmann::json::array();
  for (std::size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) items.push_back(item(rows[i]));
  nlohmann::json out = {{"items", std::move(items)}};
  if (static_cast<int>(rows.size()) > limit) {
    out["continue"] = api::encode_continue(std::to_string(rows[static_cast<std::size_t>(limit) - 1].seq));
  }
  return out;
}

}  // namespace fleet
