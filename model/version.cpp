#include "model/version.hpp"

#include <array>
#include <charconv>

namespace fleet::model {

bool KubernetesVersion::within_one_minor_of(const KubernetesVersion& other) const {
  return other.major == major && other.minor <= minor + 1;
}

std::optional<KubernetesVersion> parse_kubernetes_version(std::string_view text) {
  if (!text.empty() && text.front() == 'v') text.remove_prefix(1);
  std::array<int, 3> parts{};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (p == end || *p < '0' || *p > '9') return std::nullopt;  // from_chars would take a sign
    auto [next, ec] = std::from_chars(p, end, parts[i]);
    if (ec != std::errc()) return std::nullopt;
    p = next;
    if (i + 1 < parts.size()) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  if (p != end) return std::nullopt;
  return KubernetesVersion{parts[0], parts[1], parts[2]};
}

std::optional<KubernetesVersion> parse_reported_kubernetes_version(std::string_view text) {
  const std::size_t cut = text.find_first_of("+-");
  if (cut == std::string_view::npos) return parse_kubernetes_version(text);
  const std::string_view suffix = text.substr(cut);
  const bool build = suffix.size() > 1 && suffix.front() == '+';
  const bool cloud = suffix.rfind("-eks-", 0) == 0 || suffix.rfind("-gke.", 0) == 0;
  if (!build && !cloud) return std::nullopt;
  return parse_kubernetes_version(text.substr(0, cut));
}

std::string oldest_reported(const std::vector<std::string>& reported) {
  const std::string* oldest = nullptr;
  std::optional<KubernetesVersion> at;
  for (const std::string& text : reported) {
    const auto v = parse_reported_kubernetes_version(text);
    if (v && (!at || *v < *at)) {
      at = v;
      oldest = &text;
    }
  }
  if (oldest != nullptr) return *oldest;
  return reported.empty() ? std::string() : reported.front();
}

std::string to_string(const KubernetesVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

}  // namespace fleet::model
