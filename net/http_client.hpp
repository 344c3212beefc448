#pragma once
// A small synchronous HTTP/1.1 client (Beast) for fleetctl and fleet-agent: keep-alive, a timeout on every
// call, HTTPS verified against a CA file, optionally a client certificate, and a streaming call for long
// responses (Kubernetes watches). No Beast or Asio types in this header.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "net/http_types.hpp"

namespace fleet::http {

struct ClientOptions {
  std::string base_url;  // "http://127.0.0.1:8080" or "https://fleet.example:8443"
  std::string ca_file;   // PEM; for https. Empty → the system's trust store.
  std::string ca_pem;    // PEM CA certificates in memory (a kubeconfig's certificate-authority-data), besides ca_file
  // A client certificate for mutual TLS, each part from a file or PEM in memory (a kubeconfig carries either).
  std::string client_cert_file;
  std::string client_key_file;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::chrono::milliseconds timeout{30000};           // per request: connect + write + read
  std::size_t max_response_bytes = 64 * 1024 * 1024;  // header + body; larger → Error kTooLarge
  std::string user_agent = "fleet-http-client";
  // Plain http:// is refused for any host but a loopback one (127.0.0.0/8, ::1, localhost): every caller sends a
  // credential, which would cross the network unencrypted (issue #10). True allows it (a flag such as
  // --insecure-http, for a test network or a TLS-terminating sidecar on another address).
  bool allow_plain_http = false;
};

struct ClientResponse {
  int status = 0;
  Headers headers;  // lower-cased names
  std::string body;
};

class Client {
 public:
  // Validates the URL (scheme http|https, host, optional port, no path beyond "/"); does not connect yet.
  static Result<std::unique_ptr<Client>> create(ClientOptions options);
  virtual ~Client() = default;
  // path_and_query starts with "/". Transport failures (refused, timeout, TLS verification) are an Error with
  // code kUnavailable and a message that names the server and the cause; any HTTP status is a ClientResponse.
  // Reconnects once when a kept-alive connection turns out to be closed. Sends Host, User-Agent and, for a
  // non-empty body without one, Content-Type: application/json; `headers` add to or override those.
  virtual Result<ClientResponse> request(const std::string& method, const std::string& path_and_query,
                                         const Headers& headers = {}, const std::string& body = {}) = 0;

  // For a response read as it arrives (a Kubernetes watch). A 2xx body goes to `on_data` piece by piece as the
  // bytes come (pieces follow no message boundary) and the returned body stays empty; `on_data` returning false
  // stops reading and closes the connection. Any other status comes back whole in `body`, as from request().
  // The whole call, connect to last byte, is bounded by `timeout` rather than options.timeout. No silent retry:
  // a watch that fails is the caller's to resume. The default, for test doubles, calls request() and hands the
  // body over in one piece.
  virtual Result<ClientResponse> stream(const std::string& method, const std::string& path_and_query,
                                        const Headers& headers, const std::string& body,
                                        const std::function<bool(std::string_view)>& on_data,
                                        std::chrono::milliseconds timeout);

  // A request whose answer the caller collects later, doing other work meanwhile (an agent's long poll, held by the
  // server until it has something, while the agent heartbeats and reports on its other connection). send() writes
  // the request (connecting first, and once more on a fresh connection if the kept-alive one was closed) and
  // returns; await_response() waits for the answer until `until` and gives std::nullopt while it is still out.
  // options.timeout bounds the whole exchange, from send() on. One request at a time: send(), request() and
  // stream() give up a request still out (its connection is closed: its answer could not be told from the next
  // one's), as does abandon(). The defaults, for test doubles, make the call in send() and hand its answer over at
  // the first await_response().
  virtual Status send(const std::string& method, const std::string& path_and_query, const Headers& headers = {},
                      const std::string& body = {});
  virtual std::optional<Result<ClientResponse>> await_response(std::chrono::steady_clock::time_point until);
  virtual bool awaiting() const { return sent_.has_value(); }
  virtual void abandon() { sent_.reset(); }

  // Thread-safe: makes the call in progress (on whatever thread) and every later one fail at once with
  // kUnavailable "cancelled", so that a thread blocked in a long stream() can be shut down. Not undone.
  virtual void cancel() {}

 private:
  std::optional<Result<ClientResponse>> sent_;  // the defaults' answer, made in send()
};

}  // namespace fleet::http
