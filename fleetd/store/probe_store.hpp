#pragma once
// GPU probe results (migrations/0007_gpu_admission.sql): written from agents' heartbeats, once per (cluster,
// probe id), and read by the probe endpoints and the node and GPU lists. Rows leave PostgreSQL as the API's JSON
// (built in SQL), so a page of results is not parsed and re-serialized here.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/probe_result.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

// A node keeps its newest results, at most this many; older ones are deleted as new ones arrive.
inline constexpr int kProbeResultsKeptPerNode = 100;

// Stores what is not stored yet (by probe id) and returns the indices of those that were new. The cluster must
// exist. `gpu_model_of` names a node's GPU model when the caller knows it ("" otherwise: the stored GPUs say).
std::vector<std::size_t> insert_probe_results(pqxx::transaction_base& txn, std::string_view cluster,
                                              const std::vector<protocol::ProbeResult>& results,
                                              const std::function<std::string(const std::string& node)>& gpu_model_of);

struct ProbeFilter {
  std::string cluster, node, verdict, model, check;  // empty = any; `check`: among the failed checks
  std::optional<double> since_epoch;                 // finished at or after
  std::optional<std::int64_t> before_id;             // keyset: ids strictly below (newest first)
  bool with_report = false;
  int limit = 100;
};
struct ProbePage {
  std::vector<std::string> items;  // JSON objects, newest first
  std::optional<std::int64_t> last_id;
  bool more = false;
};
ProbePage list_probe_results(pqxx::transaction_base& txn, const ProbeFilter& filter);
// One result with its report, by its row id; nullopt when absent.
std::optional<std::string> get_probe_result(pqxx::transaction_base& txn, std::int64_t id);

}  // namespace fleet::store
