#pragma once
// fleetctl's process exit codes (documented in docs/fleetctl.md) and how an Error maps to one. Scripts branch on
// these, so the numbers are part of the interface and never change meaning.
#include "common/error.hpp"

namespace fleet::ctl {

enum class ExitCode : int {
  kOk = 0,
  kClientError = 1,  // the request was rejected (400/413/415/422/…) or a local failure (config file, --overwrite)
  kUsage = 2,        // bad flags or arguments, caught before anything was sent
  kNotFound = 3,     // 404
  kConflict = 4,     // 409, 412
  kAuth = 5,         // 401, 403
  kServer = 6,       // 5xx, or the server could not be reached
  kRunFailed = 7,    // `rollout status --watch`: the run ended Failed or Aborted
};

// Errors from the server carry a non-empty `type` (the problem slug); those map by code. Local errors (no type) are
// usage errors when kInvalid, transport failures when kUnavailable, otherwise plain client errors.
ExitCode exit_code_for(const Error& error);

inline int to_int(ExitCode code) {
  return static_cast<int>(code);
}

}  // namespace fleet::ctl
