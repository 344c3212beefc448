#include "agents/kube/upgrade/arm_lro.hpp"

#include <algorithm>
#include <cctype>

#include <boost/algorithm/string/predicate.hpp>

namespace fleet::agent::kube {
namespace {

std::string header(const http::Headers& headers, const std::string& lower_name) {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

// "https://Host:443/" → "https://host:443": scheme and host compare case-insensitively, a trailing slash is not
// part of the origin.
std::string normalized_origin(std::string_view origin) {
  std::string out(origin);
  while (!out.empty() && out.back() == '/') out.pop_back();
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::string_view to_string(LroState state) {
  switch (state) {
    case LroState::kInProgress:
      return "InProgress";
    case LroState::kSucceeded:
      return "Succeeded";
    case LroState::kFailed:
      return "Failed";
    case LroState::kCanceled:
      return "Canceled";
  }
  return "InProgress";
}

LroStatus parse_lro_status(const nlohmann::json& body) {
  LroStatus out;
  if (!body.is_object()) return out;
  if (auto s = body.find("status"); s != body.end() && s->is_string()) out.raw_status = s->get<std::string>();
  if (boost::algorithm::iequals(out.raw_status, "Succeeded")) out.state = LroState::kSucceeded;
  if (boost::algorithm::iequals(out.raw_status, "Failed")) out.state = LroState::kFailed;
  if (boost::algorithm::iequals(out.raw_status, "Canceled") || boost::algorithm::iequals(out.raw_status, "Cancelled"))
    out.state = LroState::kCanceled;
  if (auto p = body.find("percentComplete"); p != body.end() && p->is_number()) {
    out.percent = std::clamp(static_cast<int>(p->get<double>()), 0, 100);
  }
  if (auto e = body.find("error"); e != body.end() && e->is_object()) {
    out.error_code = e->value("code", "");
    out.error_message = e->value("message", "");
  }
  return out;
}

LroPoll lro_poll_of(int status, const http::Headers& headers) {
  if (status < 200 || status >= 300) return {};
  if (std::string a = header(headers, "azure-asyncoperation"); !a.empty()) {
    return {LroPoll::Kind::kAsyncOperation, std::move(a)};
  }
  if (std::string l = header(headers, "location"); !l.empty() && status == 202) {
    return {LroPoll::Kind::kLocation, std::move(l)};
  }
  return {};
}

std::optional<std::chrono::seconds> retry_after(const http::Headers& headers) {
  const std::string v = header(headers, "retry-after");
  if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  return std::chrono::seconds(std::stol(v));
}

std::chrono::milliseconds next_poll_delay(const http::Headers& headers, std::chrono::milliseconds fallback,
                                          std::chrono::milliseconds floor, std::chrono::milliseconds cap) {
  std::chrono::milliseconds d = fallback;
  if (auto r = retry_after(headers)) d = std::chrono::duration_cast<std::chrono::milliseconds>(*r);
  return std::clamp(d, floor, std::max(floor, cap));
}

std::optional<std::string> same_origin_target(std::string_view url, std::string_view origin) {
  const std::string o = normalized_origin(origin);
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const auto path_start = url.find('/', scheme_end + 3);
  const std::string_view url_origin = url.substr(0, path_start);
  if (normalized_origin(url_origin) != o) return std::nullopt;
  if (path_start == std::string_view::npos) return std::string("/");
  return std::string(url.substr(path_start));
}

}  // namespace fleet::agent::kube
