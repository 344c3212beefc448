#pragma once
// HTTP/1.1 server on Boost.Beast/Asio. This header stays free of Beast and Asio: the implementation lives in
// http_server.cpp alone, which is the one place fleetd compiles them for serving.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "net/http_types.hpp"

namespace fleet::http {

// authorize_large_body gets the target and the Authorization value as views that live only for the call (copy what
// a later answer needs). Its answer: true lets the request's body be up to large_body_bytes. It must be called exactly
// once, at once (a cache) or later from any thread (a database lookup); until then the request waits, and no
// timeout runs, so the application bounds the wait (its database jobs fail after their queue wait).
using LargeBodyVerdict = std::function<void(bool)>;

struct ServerLimits {
  std::size_t max_header_bytes = 16 * 1024;  // larger → 431
  std::size_t max_body_bytes = 1024 * 1024;  // larger → 413 (checked against Content-Length before reading)
  std::chrono::seconds read_timeout{30};     // a request's head and body must arrive within this
  std::chrono::seconds idle_timeout{75};     // keep-alive connection with no request
  std::chrono::seconds write_timeout{30};
  std::chrono::seconds handler_timeout{60};    // a handler that never responds → 503 and the connection closes
  std::chrono::seconds handshake_timeout{10};  // TLS only: the handshake must finish within this
  std::size_t max_connections = 10000;         // beyond → accept and close at once
  // Per peer address (the IP, not the port): beyond → accept and close at once, so one client cannot take every
  // connection. 0 → no per-address limit. Keep it well above what one NAT gateway in front of many agents needs.
  std::size_t max_connections_per_source = 0;
  // Some requests may carry more than max_body_bytes (a full inventory heartbeat of a 5,000-node cluster is
  // several MiB): those for which allows_large_body returns true, and whose Authorization header
  // authorize_large_body vouches for, get large_body_bytes instead. The credential is checked before any of the
  // body is read, and only when the body could exceed max_body_bytes (a larger Content-Length, or chunked), so
  // a client the application does not know can never make the server hold a large body.
  // allows_large_body empty: every request gets max_body_bytes. authorize_large_body empty: an Authorization
  // header of any value is enough (for tests and for servers without credentials of their own).
  std::function<bool(std::string_view method, std::string_view target)> allows_large_body;
  std::function<void(std::string_view target, std::string_view authorization, LargeBodyVerdict verdict)>
      authorize_large_body;
  std::size_t large_body_bytes = 16 * 1024 * 1024;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0 → an ephemeral port; bound_port() tells which
  unsigned threads = 2;        // the Asio thread pool size
  ServerLimits limits;
  // Both set → HTTPS (TLS 1.2+) with this PEM certificate chain and key; both empty → plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class Server {
 public:
  // Binds and listens at once (so errors such as "address in use" come back here); serving starts with run().
  static Result<std::unique_ptr<Server>> create(ServerOptions options, Handler handler);
  virtual ~Server() = default;

  virtual unsigned short bound_port() const = 0;
  virtual std::string bound_address() const = 0;  // "127.0.0.1:8080"

  // Serves on `threads` threads until shutdown() completes; blocks the caller (it is one of the threads).
  virtual void run() = 0;
  // Thread-safe and async-signal-free (call it from a signal-watching thread, not a signal handler). Stops
  // accepting, lets in-flight requests finish (up to `grace`), closes idle keep-alive connections, then makes
  // run() return.
  virtual void shutdown(std::chrono::milliseconds grace) = 0;

  // Counts for /metrics.
  virtual std::size_t open_connections() const = 0;
  virtual std::size_t in_flight_requests() const = 0;
};

}  // namespace fleet::http
