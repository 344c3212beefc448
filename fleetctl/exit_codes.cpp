#include "fleetctl/exit_codes.hpp"

namespace fleet::ctl {

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
    case 502:
    case 503:
    case 504:
      return ErrorCode::kUnavailable;
    default:
      break;
  }
  if (status >= 500) return ErrorCode::kInternal;
  return ErrorCode::kInvalid;
}

ExitCode exit_code_for(const Error& error) {
  if (error.type.empty()) {
    switch (error.code) {
      case ErrorCode::kInvalid:
        return ExitCode::kUsage;
      case ErrorCode::kUnavailable:
        return ExitCode::kServer;
      default:
        return ExitCode::kClientError;
    }
  }
  switch (error.code) {
    case ErrorCode::kNotFound:
      return ExitCode::kNotFound;
    case ErrorCode::kConflict:
    case ErrorCode::kPreconditionFailed:
      return ExitCode::kConflict;
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kForbidden:
      return ExitCode::kAuth;
    case ErrorCode::kInternal:
    case ErrorCode::kUnavailable:
      return ExitCode::kServer;
    case ErrorCode::kInvalid:
    case ErrorCode::kTooLarge:
    case ErrorCode::kUnsupportedMedia:
      return ExitCode::kClientError;
  }
  return ExitCode::kClientError;
}

}  // namespace fleet::ctl
