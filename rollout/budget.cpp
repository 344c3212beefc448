#include "rollout/budget.hpp"

#include <charconv>
#include <limits>
#include <string_view>

#include "model/json_read.hpp"
#include "model/names.hpp"

namespace fleet::rollout {
namespace {

using nlohmann::json;

constexpr std::string_view kForms = "a non-negative integer (3, \"3\") or a percent from \"0%\" to \"100%\"";

// Digits only: no sign, no space, no fraction, no exponent (from_chars alone would take "-1" and stop at "1.5").
bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

int Budget::resolve(int members) const {
  if (!percent) return value;
  if (members <= 0 || value <= 0) return 0;
  // value is at most 100 for percents, so the product fits; integer division rounds down.
  return static_cast<int>(static_cast<long long>(members) * value / 100);
}

Result<Budget> budget_from_json(const json& j, const std::string& path) {
  constexpr long long kMaxCount = std::numeric_limits<int>::max();
  if (j.is_number_unsigned()) {
    const auto v = j.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(kMaxCount)) return model::invalid_field(path, "must be " + std::string(kForms));
    return Budget{static_cast<int>(v), false};
  }
  if (j.is_number_integer()) {
    // Parsed non-negative integers are unsigned; built ones (json(3)) are not.
    if (j.get<long long>() < 0) return model::invalid_field(path, "must not be negative (is " + j.dump() + ")");
    const auto v = j.get<long long>();
    if (v > kMaxCount) return model::invalid_field(path, "must be " + std::string(kForms));
    return Budget{static_cast<int>(v), false};
  }
  if (!j.is_string()) return model::wrong_type(path, kForms, j);
  std::string_view text = j.get_ref<const std::string&>();
  const bool percent = !text.empty() && text.back() == '%';
  if (percent) text.remove_suffix(1);
  long long v = 0;
  if (!all_digits(text) || text.size() > 10) {
    return model::invalid_field(path, "must be " + std::string(kForms) + " (is " + j.dump() + ")");
  }
  std::from_chars(text.data(), text.data() + text.size(), v);
  if (percent && v > 100) return model::invalid_field(path, "a percent must be from 0% to 100% (is " + j.dump() + ")");
  if (v > kMaxCount) return model::invalid_field(path, "must be " + std::string(kForms) + " (is " + j.dump() + ")");
  return Budget{static_cast<int>(v), percent};
}

json to_json(const Budget& b) {
  return to_string(b);
}

std::string to_string(const Budget& b) {
  return std::to_string(b.value) + (b.percent ? "%" : "");
}

}  // namespace fleet::rollout
