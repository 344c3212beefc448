#include "net/http_status.hpp"

#include <ostream>  // Boost.Core string_view streams without including it

#include <boost/beast/http/status.hpp>

namespace fleet::http {

ErrorCode error_code_for_status(int status) {
  switch (status) {
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kConflict;
    case 412:
      return ErrorCode::kPreconditionFailed;
    case 413:
      return ErrorCode::kTooLarge;
    case 415:
      return ErrorCode::kUnsupportedMedia;
    case 408:
    case 429:
    case 502:
    case 503:
    case 504:
      return ErrorCode::kUnavailable;
    default:
      break;
  }
  return status >= 500 ? ErrorCode::kInternal : ErrorCode::kInvalid;
}

std::string reason_phrase(int status) {
  namespace bhttp = boost::beast::http;
  if (status < 100 || status > 999) return "HTTP " + std::to_string(status);
  const auto known = bhttp::int_to_status(static_cast<unsigned>(status));
  if (known == bhttp::status::unknown) return "HTTP " + std::to_string(status);
  return std::string(bhttp::obsolete_reason(known));
}

}  // namespace fleet::http
