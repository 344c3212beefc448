#pragma once
// A small synchronous HTTP/1.1 client (Beast) for fleetctl and fleet-agent: keep-alive, a timeout on every
// call, HTTPS verified against a CA file. No Beast or Asio types in this header.
#include <chrono>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "net/http_types.hpp"

namespace fleet::http {

struct ClientOptions {
  std::string base_url;                               // "http://127.0.0.1:8080" or "https://fleet.example:8443"
  std::string ca_file;                                // PEM; for https. Empty → the system's trust store.
  std::chrono::milliseconds timeout{30000};           // per request: connect + write + read
  std::size_t max_response_bytes = 64 * 1024 * 1024;  // header + body; larger → Error kTooLarge
  std::string user_agent = "fleet-http-client";
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
};

}  // namespace fleet::http
