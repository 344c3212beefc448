#pragma once
// Admission policies (migrations/0007_gpu_admission.sql): how clusters prove their GPU nodes. A cluster takes the
// policy of highest priority whose selector matches its labels (ties: the first name); none → the defaults of
// admission::AdmissionPolicy.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "admission/admission_policy.hpp"
#include "model/label_selector.hpp"

namespace pqxx {
class transaction_base;
}

namespace fleet::store {

inline constexpr int kMaxAdmissionPolicies = 1000;

struct AdmissionPolicyRecord {
  std::string name;
  model::LabelSelector cluster_selector;
  int priority = 0;
  admission::AdmissionPolicy settings;
  std::int64_t resource_version = 0;
  std::string created_at, updated_at;  // RFC 3339
};

// nullopt when the name is taken.
std::optional<AdmissionPolicyRecord> insert_admission_policy(pqxx::transaction_base& txn,
                                                             const AdmissionPolicyRecord& policy);
// Replaces selector, priority and settings of a row locked by lock_admission_policy; bumps its version.
AdmissionPolicyRecord replace_admission_policy(pqxx::transaction_base& txn, const AdmissionPolicyRecord& policy);
std::optional<AdmissionPolicyRecord> get_admission_policy(pqxx::transaction_base& txn, std::string_view name);
std::optional<AdmissionPolicyRecord> lock_admission_policy(pqxx::transaction_base& txn, std::string_view name);
bool delete_admission_policy(pqxx::transaction_base& txn, std::string_view name);
std::int64_t count_admission_policies(pqxx::transaction_base& txn);
// Every policy, by name (there are at most kMaxAdmissionPolicies).
std::vector<AdmissionPolicyRecord> list_admission_policies(pqxx::transaction_base& txn);
// The policy that applies to `cluster`, or nullopt (the defaults apply; also when there is no such cluster).
std::optional<AdmissionPolicyRecord> admission_policy_for_cluster(pqxx::transaction_base& txn,
                                                                  std::string_view cluster);

}  // namespace fleet::store
