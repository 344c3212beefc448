#include "api/problem.hpp"

#include <nlohmann/json.hpp>

namespace fleet::api {
namespace {

struct SlugInfo {
  std::string_view slug;
  int status;
  std::string_view title;
};

// docs/api.md "Stable slugs", plus malformed-request (a 400 that is not about JSON: a bad path or header value).
constexpr SlugInfo kSlugs[] = {
    {"malformed-json", 400, "Malformed JSON"},
    {"malformed-request", 400, "Malformed request"},
    {"invalid-query", 400, "Invalid query parameter"},
    {"invalid-field", 422, "Invalid field"},
    {"unknown-field", 422, "Unknown field"},
    {"missing-field", 422, "Missing field"},
    {"unauthenticated", 401, "Unauthenticated"},
    {"forbidden", 403, "Forbidden"},
    {"not-found", 404, "Not found"},
    {"method-not-allowed", 405, "Method not allowed"},
    {"already-exists", 409, "Already exists"},
    {"idempotency-key-reused", 409, "Idempotency key reused"},
    {"limit-reached", 409, "Limit reached"},
    {"precondition-failed", 412, "Precondition failed"},
    {"payload-too-large", 413, "Payload too large"},
    {"unsupported-media-type", 415, "Unsupported media type"},
    {"precondition-required", 428, "Precondition required"},
    {"too-many-requests", 429, "Too many requests"},
    {"header-too-large", 431, "Request header fields too large"},
    {"internal", 500, "Internal error"},
    {"unavailable", 503, "Service unavailable"},
};

const SlugInfo* find_slug(std::string_view slug) {
  for (const SlugInfo& s : kSlugs) {
    if (s.slug == slug) return &s;
  }
  return nullptr;
}

std::string_view default_slug(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalid:
      return "invalid-field";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kConflict:
      return "already-exists";
    case ErrorCode::kPreconditionFailed:
      return "precondition-failed";
    case ErrorCode::kTooLarge:
      return "payload-too-large";
    case ErrorCode::kUnsupportedMedia:
      return "unsupported-media-type";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace

std::string_view problem_slug(const Error& e) {
  // An unknown slug is a programmer error; reporting the code's default keeps the response within the contract.
  if (const SlugInfo* s = find_slug(e.type)) return s->slug;
  return default_slug(e.code);
}

std::string_view problem_title(std::string_view slug) {
  if (const SlugInfo* s = find_slug(slug)) return s->title;
  return "Internal error";
}

int http_status_for(const Error& e) {
  const SlugInfo* s = find_slug(problem_slug(e));
  return s ? s->status : 500;
}

http::Response problem_response(const Error& e, std::string_view request_id, std::string_view instance) {
  std::string_view slug = problem_slug(e);
  int status = http_status_for(e);
  nlohmann::json body = {
      {"type", std::string(kProblemTypePrefix) + std::string(slug)},
      {"title", problem_title(slug)},
      {"status", status},
      {"detail", status == 500 ? std::string("internal error; quote the requestId when reporting it") : e.message},
      {"instance", std::string(instance)},
      {"requestId", std::string(request_id)},
  };
  if (!e.field.empty()) body["field"] = e.field;
  http::Response r;
  r.status = status;
  r.headers["content-type"] = std::string(kProblemContentType);
  if (status == 401) r.headers["www-authenticate"] = "Bearer realm=\"fleetd\"";
  // Messages may quote client input; `replace` keeps a stray invalid UTF-8 byte from turning a 4xx into a throw.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace fleet::api
