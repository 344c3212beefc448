#include "fleetctl/exit_codes.hpp"

namespace fleet::ctl {

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
