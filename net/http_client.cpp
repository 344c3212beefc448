// The synchronous client drives Beast's asynchronous operations on a private io_context, one operation at a time:
// only the async operations honour tcp_stream's timer, which is how every step (resolve, connect, TLS handshake,
// write, read) shares one per-request deadline.
#include "net/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <optional>
#include <utility>

namespace fleet::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Servers answer with small heads; a generous cap still stops a hostile server from growing memory without bound.
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;
// How often a blocked call looks at cancel(): the io_context runs in slices this long.
// One read of a streamed body; a watch event is usually smaller, so events reach the caller as they arrive.
constexpr std::size_t kStreamChunkBytes = 16 * 1024;

using DataFn = std::function<bool(std::string_view)>;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "Connection refused" → "connection refused": the message continues a sentence.
std::string cause(const beast::error_code& ec) {
  std::string m = ec.message();
  if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
  return m;
}

bool has_crlf(const std::string& s) {
  return s.find_first_of("\r\n") != std::string::npos;
}

// Errors that mean "the kept-alive connection was already closed by the peer" when nothing of the response came.
bool is_stale_connection_error(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

struct Target {
  bool tls = false;
  std::string host;        // without brackets; used for DNS, SNI and certificate checks
  std::string port;        // always set
  std::string host_field;  // the Host header value
  std::string display;     // "http://127.0.0.1:8080", for messages
};

bool is_loopback_host(const std::string& host) {
  if (lower(host) == "localhost") return true;
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

Result<Target> parse_base_url(const std::string& base_url) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalid, "invalid server URL \"" + base_url + "\": " + why);
  };
  auto parsed = boost::urls::parse_uri(base_url);
  if (!parsed) return bad("expected http://host[:port] or https://host[:port]");
  const auto& u = *parsed;
  Target t;
  const std::string scheme = lower(std::string(u.scheme()));
  if (scheme == "https") {
    t.tls = true;
  } else if (scheme != "http") {
    return bad("the scheme must be http or https");
  }
  if (!u.has_authority() || u.encoded_host().empty()) return bad("no host");
  if (u.has_userinfo()) return bad("credentials in the URL are not supported; use a token");
  if (!(u.encoded_path().empty() || u.encoded_path() == "/")) return bad("a path is not supported");
  if (u.has_query() || u.has_fragment()) return bad("a query or fragment is not supported");
  t.host = u.host_type() == boost::urls::host_type::ipv6 ? std::string(u.host_address()) : std::string(u.host());
  if (u.has_port()) {
    if (u.port().empty() || u.port_number() == 0) return bad("invalid port");
    t.port = std::string(u.port());
  } else {
    t.port = t.tls ? "443" : "80";
  }
  const std::string host_literal = std::string(u.encoded_host_and_port());
  t.host_field = host_literal;
  t.display = scheme + "://" + host_literal;
  return t;
}

class BeastClient final : public Client {
 public:
  BeastClient(ClientOptions options, Target target, std::optional<ssl::context> tls_context)
      : options_(std::move(options)), target_(std::move(target)), tls_context_(std::move(tls_context)) {}

  ~BeastClient() override { close(); }

  Result<ClientResponse> request(const std::string& method, const std::string& path_and_query, const Headers& headers,
                                 const std::string& body) override {
    return call(method, path_and_query, headers, body, nullptr, options_.timeout);
  }

  Result<ClientResponse> stream(const std::string& method, const std::string& path_and_query, const Headers& headers,
                                const std::string& body, const DataFn& on_data,
                                std::chrono::milliseconds timeout) override {
    if (timeout.count() <= 0) return make_error(ErrorCode::kInvalid, "the stream timeout must be positive");
    return call(method, path_and_query, headers, body, &on_data, timeout);
  }

  Status send(const std::string& method, const std::string& path_and_query, const Headers& headers,
              const std::string& body) override {
    if (auto s = check_request(method, path_and_query, headers); !s) return s;
    abandon();
    if (cancelled_) return cancelled_error();
    auto sent = std::make_unique<Sent>();
    sent->deadline = Clock::now() + options_.timeout;
    sent->req = build_request(method, path_and_query, headers, body);
    sent->reused = connected();
    if (auto s = write_sent(*sent); !s) return s;
    pending_ = std::move(sent);
    return Ok{};
  }

  std::optional<Result<ClientResponse>> await_response(Clock::time_point until) override {
    if (!pending_) return Result<ClientResponse>(make_error(ErrorCode::kInvalid, "no request is awaiting its answer"));
    Sent& sent = *pending_;
    const auto limit = std::min(until, sent.deadline + std::chrono::milliseconds(50));
    while (!sent.read && !cancelled_ && Clock::now() < limit) {
      ioc_.restart();
      if (cancelled_) break;
      ioc_.run_until(limit);
    }
    if (!sent.read) {
      if (!cancelled_ && Clock::now() < sent.deadline) return std::nullopt;  // still out, within its time
      lowest_layer().cancel();
      ioc_.restart();
      ioc_.run();
      if (!sent.read || !*sent.read || *sent.read == asio::error::operation_aborted) sent.read = beast::error::timeout;
    }
    Attempt attempt = read_outcome(*sent.read, *sent.parser, sent.req);
    if (!attempt.response && attempt.stale && sent.reused) {
      // The server had closed the idle keep-alive connection: once more on a fresh one, as request() does.
      close();
      sent.reused = false;
      if (auto s = write_sent(sent); !s) {
        pending_.reset();
        return Result<ClientResponse>(s.error());
      }
      return await_response(until);
    }
    pending_.reset();
    return finish(std::move(attempt));
  }

  bool awaiting() const override { return pending_ != nullptr; }

  void abandon() override {
    if (!pending_) return;
    close();  // completes the read's handler while `pending_` still holds what it writes to
    pending_.reset();
  }

  void cancel() override {
    cancelled_ = true;
    ioc_.stop();  // thread-safe: a run_until() in progress returns at once
  }

 private:
  struct Attempt {
    std::optional<ClientResponse> response;
    std::optional<Error> error;
    bool stale = false;  // failed like a connection the peer had already closed, with no response byte read
  };

  // A request sent and its answer awaited (send(), await_response()); on the heap, where its read's handler finds it.
  struct Sent {
    bhttp::request<bhttp::string_body> req;
    std::unique_ptr<bhttp::response_parser<bhttp::string_body>> parser;
    std::optional<beast::error_code> read;  // set by the read's handler
    Clock::time_point deadline;
    bool reused = false;  // on a kept-alive connection: a stale failure earns one more try on a fresh one
  };

  static Status check_request(const std::string& method, const std::string& path_and_query, const Headers& headers) {
    if (path_and_query.empty() || path_and_query[0] != '/' || has_crlf(path_and_query) ||
        path_and_query.find(' ') != std::string::npos) {
      return make_error(ErrorCode::kInvalid, "invalid request target \"" + path_and_query + "\"");
    }
    if (method.empty() || has_crlf(method) || method.find(' ') != std::string::npos) {
      return make_error(ErrorCode::kInvalid, "invalid request method \"" + method + "\"");
    }
    for (const auto& [name, value] : headers) {
      if (name.empty() || has_crlf(name) || has_crlf(value)) {
        return make_error(ErrorCode::kInvalid, "invalid header \"" + name + "\"");
      }
    }
    return Ok{};
  }

  Result<ClientResponse> call(const std::string& method, const std::string& path_and_query, const Headers& headers,
                              const std::string& body, const DataFn* on_data, std::chrono::milliseconds timeout) {
    if (auto s = check_request(method, path_and_query, headers); !s) return s.error();
    abandon();
    if (cancelled_) return cancelled_error();
    const auto deadline = Clock::now() + timeout;
    auto req = build_request(method, path_and_query, headers, body);

    const bool reused = connected();
    if (!reused) {
      if (auto s = connect(deadline); !s) return s.error();
    }
    Attempt first = exchange(req, deadline, on_data);
    if (first.response || !(reused && first.stale)) return finish(std::move(first));
    // The server closed the idle keep-alive connection before we wrote: one silent retry on a fresh one (a stale
    // failure means no response byte arrived, so a stream has delivered nothing yet either).
    close();
    if (auto s = connect(deadline); !s) return s.error();
    return finish(exchange(req, deadline, on_data));
  }

  Error cancelled_error() const {
    return make_error(ErrorCode::kUnavailable, "call to " + target_.display + " cancelled");
  }

  bool connected() const { return tcp_ != nullptr || tls_ != nullptr; }

  beast::tcp_stream& lowest_layer() { return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_; }

  void close() {
    beast::error_code ignored;
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
    if (tcp_) tcp_->socket().close(ignored);
    // Drain handlers that a close may have completed, so no operation outlives its stream.
    ioc_.restart();
    ioc_.run();
    tls_.reset();
    tcp_.reset();
    buffer_.consume(
        buffer_.size());  // bytes of the old connection (a stream stopped early) must not leak into the next
  }

  Result<ClientResponse> finish(Attempt attempt) {
    if (attempt.response) return std::move(*attempt.response);
    close();
    return std::move(*attempt.error);
  }

  // Runs one asynchronous operation to completion or until `deadline`; `cancel` aborts it when time runs out.
  template <class Start, class Cancel>
  beast::error_code run_one(Start&& start, Cancel&& cancel, Clock::time_point deadline) {
    std::optional<beast::error_code> result;
    start([&result](beast::error_code ec) { result = ec; });
    // The stream timer normally fires first (error::timeout); the margin only matters for the resolver. No time
    // slices: cancel() from another thread stops the io_context, which ends run_until() at once (thousands of
    // agents in one fleet-sim each hold a long poll, and waking each every few ms cost whole cores).
    const auto limit = deadline + std::chrono::milliseconds(50);
    while (!result && !cancelled_ && Clock::now() < limit) {
      ioc_.restart();
      if (cancelled_) break;  // a stop() before the restart() was undone by it; one after it still holds
      ioc_.run_until(limit);
    }
    if (!result) {
      cancel();
      ioc_.restart();
      ioc_.run();
      if (!result || !*result) result = beast::error::timeout;
      if (*result == asio::error::operation_aborted) result = beast::error::timeout;
    }
    return *result;
  }

  Error transport_error(const std::string& stage, const beast::error_code& ec) const {
    if (cancelled_) return cancelled_error();
    if (ec == beast::error::timeout) {
      return make_error(ErrorCode::kUnavailable, "cannot reach " + target_.display + ": timed out after " +
                                                     std::to_string(options_.timeout.count()) + " ms (" + stage + ")");
    }
    return make_error(ErrorCode::kUnavailable, "cannot reach " + target_.display + ": " + cause(ec));
  }

  Status connect(Clock::time_point deadline) {
    close();
    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type endpoints;
    auto ec = run_one(
        [&](auto done) {
          resolver.async_resolve(target_.host, target_.port,
                                 [&endpoints, done](beast::error_code e, tcp::resolver::results_type r) {
                                   endpoints = std::move(r);
                                   done(e);
                                 });
        },
        [&] { resolver.cancel(); }, deadline);
    if (ec) return transport_error("resolving the host", ec);

    if (target_.tls) {
      tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, *tls_context_);
      if (auto s = configure_tls(); !s) {
        tls_.reset();
        return s;
      }
    } else {
      tcp_ = std::make_unique<beast::tcp_stream>(ioc_);
    }
    auto& stream = lowest_layer();
    stream.expires_at(deadline);
    ec = run_one(
        [&](auto done) {
          stream.async_connect(endpoints, [done](beast::error_code e, const tcp::endpoint&) { done(e); });
        },
        [&] { stream.cancel(); }, deadline);
    if (ec) {
      close();
      return transport_error("connecting", ec);
    }
    if (!target_.tls) return Ok{};

    ec = run_one([&](auto done) { tls_->async_handshake(ssl::stream_base::client, done); }, [&] { stream.cancel(); },
                 deadline);
    if (ec) {
      const long verify = SSL_get_verify_result(tls_->native_handle());
      close();
      if (ec == beast::error::timeout) return transport_error("TLS handshake", ec);
      if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        return make_error(ErrorCode::kUnavailable, "cannot reach " + target_.display +
                                                       ": TLS certificate verification failed: the certificate "
                                                       "does not match the host name \"" +
                                                       target_.host + "\"");
      }
      if (verify != X509_V_OK) {
        return make_error(ErrorCode::kUnavailable,
                          "cannot reach " + target_.display +
                              ": TLS certificate verification failed: " + X509_verify_cert_error_string(verify));
      }
      return make_error(ErrorCode::kUnavailable,
                        "cannot reach " + target_.display + ": TLS handshake failed: " + cause(ec));
    }
    return Ok{};
  }

  Status configure_tls() {
    SSL* ssl_handle = tls_->native_handle();
    beast::error_code ec;
    (void)asio::ip::make_address(target_.host, ec);  // only "is it an IP literal" matters here
    if (ec) {
      // SNI is for names only (RFC 6066); the peer name check is OpenSSL's, with wildcard rules of RFC 6125.
      if (!SSL_set_tlsext_host_name(ssl_handle, target_.host.c_str()) ||
          !SSL_set1_host(ssl_handle, target_.host.c_str())) {
        return make_error(ErrorCode::kInternal, "cannot set the TLS host name \"" + target_.host + "\"");
      }
    } else {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      if (!X509_VERIFY_PARAM_set1_ip_asc(param, target_.host.c_str())) {
        return make_error(ErrorCode::kInternal, "cannot set the TLS peer address \"" + target_.host + "\"");
      }
    }
    return Ok{};
  }

  bhttp::request<bhttp::string_body> build_request(const std::string& method, const std::string& target,
                                                   const Headers& headers, const std::string& body) const {
    bhttp::request<bhttp::string_body> req;
    const auto verb = bhttp::string_to_verb(method);
    if (verb == bhttp::verb::unknown) {
      req.method_string(method);
    } else {
      req.method(verb);
    }
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, target_.host_field);
    req.set(bhttp::field::user_agent, options_.user_agent);
    if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    return req;
  }

  // Connects if need be, writes `sent`'s request and starts reading its answer; the connection closed on failure.
  Status write_sent(Sent& sent) {
    if (!connected()) {
      if (auto s = connect(sent.deadline); !s) return s;
    }
    auto failed = write_request(sent.req, sent.deadline);
    if (failed && failed->stale && sent.reused) {
      close();
      sent.reused = false;
      if (auto s = connect(sent.deadline); !s) return s;
      failed = write_request(sent.req, sent.deadline);
    }
    if (failed) {
      close();
      return *failed->error;
    }
    sent.parser = make_parser(sent.req);
    sent.read.reset();
    start_read(*sent.parser, [&sent](beast::error_code ec) { sent.read = ec; });
    return Ok{};
  }

  // The request written, or the failure as an Attempt (stale: the peer had closed the kept-alive connection).
  std::optional<Attempt> write_request(bhttp::request<bhttp::string_body>& req, Clock::time_point deadline) {
    auto& stream = lowest_layer();
    stream.expires_at(deadline);  // for the read that follows too
    auto ec = run_one(
        [&](auto done) {
          auto on_write = [done](beast::error_code e, std::size_t) { done(e); };
          if (tls_) {
            bhttp::async_write(*tls_, req, on_write);
          } else {
            bhttp::async_write(*tcp_, req, on_write);
          }
        },
        [&] { stream.cancel(); }, deadline);
    if (!ec) return std::nullopt;
    Attempt attempt;
    attempt.stale = is_stale_connection_error(ec);
    attempt.error = transport_error("sending the request", ec);
    return attempt;
  }

  std::unique_ptr<bhttp::response_parser<bhttp::string_body>> make_parser(
      const bhttp::request<bhttp::string_body>& req) const {
    auto parser = std::make_unique<bhttp::response_parser<bhttp::string_body>>();
    parser->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(kMaxHeaderBytes, std::max<std::size_t>(options_.max_response_bytes, 1))));
    parser->body_limit(options_.max_response_bytes);
    if (req.method() == bhttp::verb::head) parser->skip(true);
    return parser;
  }

  template <class Done>
  void start_read(bhttp::response_parser<bhttp::string_body>& parser, Done done) {
    auto on_read = [done](beast::error_code e, std::size_t) { done(e); };
    if (tls_) {
      bhttp::async_read(*tls_, buffer_, parser, on_read);
    } else {
      bhttp::async_read(*tcp_, buffer_, parser, on_read);
    }
  }

  Attempt exchange(bhttp::request<bhttp::string_body>& req, Clock::time_point deadline, const DataFn* on_data) {
    if (auto failed = write_request(req, deadline)) return std::move(*failed);
    if (on_data) return read_streamed(req, deadline, *on_data);
    auto parser = make_parser(req);
    auto& stream = lowest_layer();
    auto ec = run_one([&](auto done) { start_read(*parser, done); }, [&] { stream.cancel(); }, deadline);
    return read_outcome(ec, *parser, req);
  }

  // What a finished read (ec) made of the response.
  Attempt read_outcome(const beast::error_code& ec, bhttp::response_parser<bhttp::string_body>& parser,
                       const bhttp::request<bhttp::string_body>& req) {
    Attempt attempt;
    if (ec) {
      if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
        attempt.error = make_error(ErrorCode::kTooLarge, "the response from " + target_.display + " exceeds " +
                                                             std::to_string(options_.max_response_bytes) + " bytes");
        return attempt;
      }
      attempt.stale = !parser.got_some() && is_stale_connection_error(ec);
      if (parser.got_some() && ec != beast::error::timeout) {
        attempt.error =
            make_error(ErrorCode::kUnavailable, "invalid response from " + target_.display + ": " + cause(ec));
      } else {
        attempt.error = transport_error("waiting for the response", ec);
      }
      return attempt;
    }

    auto res = parser.release();
    ClientResponse out = head_of(res);
    out.body = std::move(res.body());
    const bool keep = res.keep_alive() && req.keep_alive();
    attempt.response = std::move(out);
    if (!keep) close();
    return attempt;
  }

  template <class Body>
  static ClientResponse head_of(const bhttp::response<Body>& res) {
    ClientResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      auto name = lower(std::string(field.name_string()));
      auto [it, inserted] = out.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());  // RFC 9110 §5.3: combine repeated fields
    }
    return out;
  }

  // The body of a 2xx response goes to `on_data` as it arrives: read_some, not read, so that a few bytes followed
  // by a pause (one watch event, then quiet) reach the caller at once instead of waiting for a full buffer.
  Attempt read_streamed(const bhttp::request<bhttp::string_body>& req, Clock::time_point deadline,
                        const DataFn& on_data) {
    Attempt attempt;
    auto& stream = lowest_layer();
    auto cancel = [&] { stream.cancel(); };
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(kMaxHeaderBytes, std::max<std::size_t>(options_.max_response_bytes, 1))));
    parser.body_limit(boost::none);  // a watch is unbounded; on_data decides what to keep
    auto fail = [&](const beast::error_code& ec, const char* stage) {
      attempt.stale = !parser.got_some() && is_stale_connection_error(ec);
      attempt.error = parser.got_some() && ec != beast::error::timeout && !cancelled_
                          ? make_error(ErrorCode::kUnavailable,
                                       "invalid or interrupted response from " + target_.display + ": " + cause(ec))
                          : transport_error(stage, ec);
      return attempt;
    };
    auto ec = run_one(
        [&](auto done) {
          auto on_read = [done](beast::error_code e, std::size_t) { done(e); };
          if (tls_) {
            bhttp::async_read_header(*tls_, buffer_, parser, on_read);
          } else {
            bhttp::async_read_header(*tcp_, buffer_, parser, on_read);
          }
        },
        cancel, deadline);
    if (ec) return fail(ec, "waiting for the response");

    ClientResponse out = head_of(parser.get());
    const bool success = out.status >= 200 && out.status < 300;
    bool stopped = false;
    std::array<char, kStreamChunkBytes> chunk{};
    while (!parser.is_done() && !stopped) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      ec = run_one(
          [&](auto done) {
            auto on_read = [done](beast::error_code e, std::size_t) { done(e); };
            if (tls_) {
              bhttp::async_read_some(*tls_, buffer_, parser, on_read);
            } else {
              bhttp::async_read_some(*tcp_, buffer_, parser, on_read);
            }
          },
          cancel, deadline);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) return fail(ec, "reading the response");
      const std::size_t n = chunk.size() - parser.get().body().size;
      if (n == 0) continue;
      if (success) {
        stopped = !on_data(std::string_view(chunk.data(), n));
      } else if (out.body.size() + n > options_.max_response_bytes) {
        attempt.error = make_error(ErrorCode::kTooLarge, "the response from " + target_.display + " exceeds " +
                                                             std::to_string(options_.max_response_bytes) + " bytes");
        return attempt;
      } else {
        out.body.append(chunk.data(), n);
      }
    }
    const bool keep = !stopped && parser.get().keep_alive() && req.keep_alive();
    attempt.response = std::move(out);
    if (!keep) close();
    return attempt;
  }

  ClientOptions options_;
  Target target_;
  std::optional<ssl::context> tls_context_;
  asio::io_context ioc_;
  std::unique_ptr<beast::tcp_stream> tcp_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  std::atomic<bool> cancelled_{false};
  std::unique_ptr<Sent> pending_;  // send()'s request, until await_response() hands its answer over
};

// Each part from a file or from memory; a certificate without its key (or the reverse) is a mistake, not a choice.
Status load_client_certificate(ssl::context& tls, const ClientOptions& o) {
  const bool has_cert = !o.client_cert_file.empty() || !o.client_cert_pem.empty();
  const bool has_key = !o.client_key_file.empty() || !o.client_key_pem.empty();
  if (!has_cert && !has_key) return Ok{};
  if (has_cert != has_key) {
    return make_error(ErrorCode::kInvalid, "a client certificate needs both the certificate and its private key");
  }
  beast::error_code ec;
  if (!o.client_cert_file.empty()) {
    tls.use_certificate_chain_file(o.client_cert_file, ec);
  } else {
    tls.use_certificate_chain(asio::buffer(o.client_cert_pem), ec);
  }
  if (ec) {
    const std::string where = o.client_cert_file.empty() ? "given as PEM" : "\"" + o.client_cert_file + "\"";
    return make_error(ErrorCode::kInvalid, "cannot load the client certificate " + where + ": " + cause(ec));
  }
  if (!o.client_key_file.empty()) {
    tls.use_private_key_file(o.client_key_file, ssl::context::pem, ec);
  } else {
    tls.use_private_key(asio::buffer(o.client_key_pem), ssl::context::pem, ec);
  }
  if (ec) {
    const std::string where = o.client_key_file.empty() ? "given as PEM" : "\"" + o.client_key_file + "\"";
    return make_error(ErrorCode::kInvalid, "cannot load the client private key " + where + ": " + cause(ec));
  }
  if (SSL_CTX_check_private_key(tls.native_handle()) != 1) {
    return make_error(ErrorCode::kInvalid, "the client private key does not match the client certificate");
  }
  return Ok{};
}

}  // namespace

Result<ClientResponse> Client::stream(const std::string& method, const std::string& path_and_query,
                                      const Headers& headers, const std::string& body, const DataFn& on_data,
                                      std::chrono::milliseconds /*timeout*/) {
  auto response = request(method, path_and_query, headers, body);
  if (!response) return response;
  if (response->status >= 200 && response->status < 300) {
    if (!response->body.empty()) on_data(response->body);
    response->body.clear();
  }
  return response;
}

Status Client::send(const std::string& method, const std::string& path_and_query, const Headers& headers,
                    const std::string& body) {
  sent_ = request(method, path_and_query, headers, body);
  return Ok{};
}

std::optional<Result<ClientResponse>> Client::await_response(std::chrono::steady_clock::time_point /*until*/) {
  if (!sent_) return Result<ClientResponse>(make_error(ErrorCode::kInvalid, "no request is awaiting its answer"));
  auto answer = std::move(*sent_);
  sent_.reset();
  return answer;
}

Result<std::unique_ptr<Client>> Client::create(ClientOptions options) {
  auto target = parse_base_url(options.base_url);
  if (!target) return target.error();
  if (!target->tls && !options.allow_plain_http && !is_loopback_host(target->host)) {
    return make_error(ErrorCode::kInvalid, "refusing plain " + target->display +
                                               ": the credential would cross the network unencrypted; use https://, "
                                               "or allow plain HTTP explicitly (--insecure-http)");
  }
  if (options.timeout.count() <= 0) return make_error(ErrorCode::kInvalid, "the request timeout must be positive");
  std::optional<ssl::context> tls_context;
  if (target->tls) {
    tls_context.emplace(ssl::context::tls_client);
    tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                             ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls_context->set_verify_mode(ssl::verify_peer);
    beast::error_code ec;
    if (options.ca_file.empty() && options.ca_pem.empty()) {
      tls_context->set_default_verify_paths(ec);
      if (ec) return make_error(ErrorCode::kInternal, "cannot load the system's trusted CA certificates: " + cause(ec));
    }
    if (!options.ca_file.empty()) {
      tls_context->load_verify_file(options.ca_file, ec);
      if (ec) {
        return make_error(ErrorCode::kInvalid, "cannot load the CA file \"" + options.ca_file + "\": " + cause(ec));
      }
    }
    if (!options.ca_pem.empty()) {
      tls_context->add_certificate_authority(asio::buffer(options.ca_pem), ec);
      if (ec) return make_error(ErrorCode::kInvalid, "cannot load the CA certificates given as PEM: " + cause(ec));
    }
    if (auto s = load_client_certificate(*tls_context, options); !s) return s.error();
  }
  return std::unique_ptr<Client>(
      std::make_unique<BeastClient>(std::move(options), std::move(*target), std::move(tls_context)));
}

}  // namespace fleet::http
