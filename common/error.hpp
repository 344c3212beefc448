#pragma once
// Errors as values. The core returns fleet::Result<T>; one place at the HTTP edge (api/problem.hpp) turns an
// Error into problem+json, and fleetctl turns one into a message and an exit code.
#include <string>
#include <utility>
#include <variant>

namespace fleet {

enum class ErrorCode {
  kInvalid,             // 400/422: the request is malformed or a field is wrong
  kUnauthenticated,     // 401
  kForbidden,           // 403
  kNotFound,            // 404
  kConflict,            // 409: already exists, or an idempotency key reused with another body
  kPreconditionFailed,  // 412: If-Match did not match
  kTooLarge,            // 413
  kUnsupportedMedia,    // 415
  kUnavailable,         // 503: database down, pool saturated
  kInternal,            // 500
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // one sentence a person can act on
  std::string field;    // JSON path of the offending field ("labels.env"), empty when not about one field
  std::string type;     // stable problem slug ("unknown-field"); empty → the default slug for `code`
};

inline Error make_error(ErrorCode code, std::string message, std::string field = {}, std::string type = {}) {
  return Error{code, std::move(message), std::move(field), std::move(type)};
}

// A minimal expected<T, Error>; GCC 12 has no std::expected in C++20.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
struct Ok {};
using Status = Result<Ok>;

}  // namespace fleet
