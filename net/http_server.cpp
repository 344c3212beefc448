// HTTP/1.1 server on Boost.Beast, in the shape of Beast's example/advanced/server-flex: a listener that accepts
// onto a fresh strand per connection, and a session templated on the stream type so that plain TCP and TLS share
// one code path. Everything a session owns is touched only on its strand; the only cross-thread traffic is
// posting (a handler's Respond, shutdown) and a few atomic counters.
#include "net/http_server.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "net/beast_request.hpp"

namespace fleet::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxRequestIdLength = 128;
constexpr std::size_t kReadChunkBytes = 4096;
// After an error response the client may still be sending a body we will not read; closing at once would turn
// our FIN into an RST and could destroy the response in flight, so we half-close and drain for a while first.
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::chrono::milliseconds kShutdownPollInterval{20};
// After the grace period every connection is closed; if some still count as open this much later, the
// io_context is stopped outright so that run() returns whatever happens.
constexpr std::chrono::seconds kForceCloseTimeout{2};
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

bool is_request_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

bool valid_request_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxRequestIdLength && std::all_of(id.begin(), id.end(), is_request_id_char);
}

std::string generate_request_id() {
  // Per-thread generator: request ids need uniqueness, not secrecy, and a shared one would need a lock.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t v = rng();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) id[static_cast<std::size_t>(i)] = kHex[v & 0xf];
  return id;
}

bool is_token_char(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A handler-supplied header must not be able to split the response (CR/LF) or produce an unparsable field.
bool valid_response_header(const std::string& name, const std::string& value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) return false;
  return std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// The server owns the framing and the request id; a handler's values for these would contradict it.
bool is_server_owned_header(const std::string& lower_name) {
  return lower_name == "content-length" || lower_name == "transfer-encoding" || lower_name == "connection" ||
         lower_name == "x-request-id" || lower_name == "keep-alive";
}

std::string format_endpoint(const tcp::endpoint& ep) {
  if (ep.address().is_v6()) return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

struct Problem {
  int status;
  const char* slug;
  const char* title;
  std::string detail;
};

// instance (RFC 9457): the request's path where the request line was read, else this occurrence's request id as a
// URN, so that every problem names one (a 431 can stop the parser before the path is known).
std::string problem_body(const Problem& p, const std::string& request_id, std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  nlohmann::json j = {{"type", std::string("urn:fleetd:problem:") + p.slug},
                      {"title", p.title},
                      {"status", p.status},
                      {"detail", p.detail},
                      {"instance", path.empty() ? "urn:fleetd:request:" + request_id : std::string(path)},
                      {"requestId", request_id}};
  // replace: the path is the client's bytes and may not be UTF-8.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const beast::error_category& http_error_category() {
  return bhttp::make_error_code(bhttp::error::end_of_stream).category();
}

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Both may be called from any thread; they post onto the session's strand.
  virtual void graceful_stop() = 0;  // close when idle; the current request, if any, finishes with Connection: close
  virtual void force_close() = 0;
};

// State shared by the listener and the sessions. Sessions hold a raw pointer: every handler that can run is run
// by this io_context, which this object owns, and the only other owners of a session (pending Respond
// callbacks) also own this object. The io_context is the last member, so destroying it (which destroys pending
// handlers and with them sessions) happens while the counters sessions update are still alive.
class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(ServerOptions options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)), ioc_(static_cast<int>(thread_count())) {}

  unsigned thread_count() const { return std::max(1u, options_.threads); }

  const ServerOptions options_;
  const Handler handler_;
  std::optional<ssl::context> tls_;
  std::string bound_address_;
  unsigned short bound_port_ = 0;

  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> open_connections_{0};
  std::atomic<std::size_t> in_flight_{0};

  // Open connections per peer address, kept only when limits.max_connections_per_source is set: taken at accept,
  // given back when the session closes (Session::counted_source_).
  bool take_source(const std::string& source);
  void give_back_source(const std::string& source);
  std::mutex sources_mutex_;
  std::unordered_map<std::string, std::size_t> per_source_;
  std::uint64_t refused_per_source_ = 0;  // under sources_mutex_

  // Session registry, touched only on registry_strand_, so that shutdown can reach every live session.
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions_;
  std::size_t sweep_at_ = 64;
  Clock::time_point grace_deadline_{};
  bool forced_ = false;
  std::uint64_t next_session_id_ = 0;  // acceptor strand only

  net::io_context ioc_;
  net::strand<net::io_context::executor_type> registry_strand_{ioc_.get_executor()};
  net::steady_timer shutdown_timer_{registry_strand_};
  tcp::acceptor acceptor_{net::make_strand(ioc_)};
  net::steady_timer accept_retry_timer_{acceptor_.get_executor()};

  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void register_session(std::uint64_t id, const std::shared_ptr<SessionBase>& session);
  void begin_shutdown(std::chrono::milliseconds grace);
  void poll_shutdown();
};

template <class Stream>
class Session final : public SessionBase {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... StreamArgs>
  explicit Session(Core* core, StreamArgs&&... stream_args)
      : core_(core),
        stream_(std::forward<StreamArgs>(stream_args)...),
        executor_(stream_.get_executor()),
        handler_timer_(executor_) {
    beast::error_code ec;
    auto remote = lowest().socket().remote_endpoint(ec);
    if (!ec) remote_address_ = format_endpoint(remote);
  }

  // The peer address this connection was counted under at accept (Core::take_source); given back on close.
  void count_as(std::string source) { counted_source_ = std::move(source); }

  ~Session() override {
    // Reached without close_now() only when the io_context is destroyed with this session's handlers pending.
    if (!closed_) {
      core_->open_connections_.fetch_sub(1);
      if (!counted_source_.empty()) core_->give_back_source(counted_source_);
    }
    if (in_flight_) core_->in_flight_.fetch_sub(1);
  }

  void start() { net::dispatch(executor_, beast::bind_front_handler(&Session::on_start, self())); }

  void graceful_stop() override { net::post(executor_, beast::bind_front_handler(&Session::on_graceful_stop, self())); }
  void force_close() override { net::post(executor_, beast::bind_front_handler(&Session::close_now, self())); }

 private:
  enum class State { kStarting, kIdle, kReading, kHandling, kWriting, kClosing, kClosed };

  // Shared by every Respond copy of one request: the first call wins, later ones are ignored.
  struct RespondState {
    // Declared first so it is destroyed last: the session's destructor uses the core.
    std::shared_ptr<Core> core;
    std::shared_ptr<Session> session;
    std::uint64_t sequence = 0;
    std::atomic<bool> used{false};
  };

  std::shared_ptr<Session> self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  const ServerLimits& limits() const { return core_->options_.limits; }

  void on_start() {
    if (closed_) return;
    if (core_->stopping_.load()) stop_requested_ = true;
    if constexpr (kTls) {
      if (stop_requested_) return close_now();
      state_ = State::kStarting;
      lowest().expires_after(limits().handshake_timeout);
      stream_.async_handshake(ssl::stream_base::server, beast::bind_front_handler(&Session::on_handshake, self()));
    } else {
      do_read();
    }
  }

  void on_handshake(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      // A client that cannot speak TLS with us is the client's problem, not the server's.
      log::debug("tls handshake failed", {{"remote", remote_address_}, {"error", ec.message()}});
      return close_now();
    }
    do_read();
  }

  // Waits for the first byte of the next request. A connection in this state has nothing in flight, so a
  // graceful shutdown may close it at once; the wait is bounded by the idle timeout (the read timeout for the
  // first request, whose clock starts at connect).
  void do_read() {
    if (closed_) return;
    if (stop_requested_ || core_->stopping_.load()) return close_now();
    parser_.emplace();
    // The largest limit any request may have: the request's own is set once its head is read (on_read_header).
    limit_request_parser(*parser_, limits());
    body_limit_ = limits().max_body_bytes;
    if (first_request_) {
      read_deadline_ = Clock::now() + limits().read_timeout;
      lowest().expires_at(read_deadline_);
    } else {
      lowest().expires_after(limits().idle_timeout);
    }
    if (buffer_.size() > 0) return begin_request();  // a pipelined request is already buffered
    state_ = State::kIdle;
    stream_.async_read_some(buffer_.prepare(kReadChunkBytes),
                            beast::bind_front_handler(&Session::on_first_bytes, self()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t bytes) {
    if (closed_) return;
    buffer_.commit(bytes);
    if (ec) return close_now();  // EOF, idle timeout, reset or a graceful shutdown: nothing to answer
    begin_request();
  }

  void begin_request() {
    state_ = State::kReading;
    received_at_ = Clock::now();
    if (!first_request_) read_deadline_ = received_at_ + limits().read_timeout;
    lowest().expires_at(read_deadline_);
    bhttp::async_read_header(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read_header, self()));
  }

  void on_read_header(beast::error_code ec, std::size_t) {
    if (closed_) return;
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return handle_request();  // no body
    const auto length = parser_->content_length();
    const bool may_exceed = !length || *length > limits().max_body_bytes;  // chunked, or larger
    const auto& req = parser_->get();
    const auto authorization = req.find(bhttp::field::authorization);
    if (!may_exceed || !large_body_route() || authorization == req.end()) {
      return read_body_within(limits().max_body_bytes);
    }
    if (!limits().authorize_large_body) return read_body_within(large_body_limit());
    // Asked before a byte of the body is read; the answer may come from another thread.
    limits().authorize_large_body(
        std::string_view(req.target().data(), req.target().size()),
        std::string_view(authorization->value().data(), authorization->value().size()), [self = self()](bool allowed) {
          net::post(self->executor_, [self, allowed] {
            if (!self->closed_)
              self->read_body_within(allowed ? self->large_body_limit() : self->limits().max_body_bytes);
          });
        });
  }

  void read_body_within(std::size_t limit) {
    auto& req = parser_->get();
    body_limit_ = limit;
    if (auto length = parser_->content_length(); length && *length > body_limit_) {
      return on_read_error(bhttp::error::body_limit);
    }
    parser_->body_limit(static_cast<std::uint64_t>(body_limit_));
    if (req.version() >= 11 && beast::iequals(req[bhttp::field::expect], "100-continue")) {
      // The body fits (the parser rejected a larger Content-Length already): tell the client to send it.
      continue_response_ = {bhttp::status::continue_, 11};
      bhttp::async_write(stream_, continue_response_, beast::bind_front_handler(&Session::on_continue_written, self()));
      return;
    }
    read_body();
  }

  void on_continue_written(beast::error_code ec, std::size_t) {
    if (closed_) return;
    if (ec) return close_now();
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, self()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (closed_) return;
    if (ec) return on_read_error(ec);
    handle_request();
  }

  void on_read_error(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return send_problem({431, "header-too-large", "Request header fields too large",
                           "the request head exceeds " + std::to_string(limits().max_header_bytes) + " bytes"});
    }
    if (ec == bhttp::error::body_limit) {
      // A Content-Length over every limit stops the parser in the head, before the request's own limit is known:
      // the answer names the limit its route and credentials could have had.
      if (!parser_->is_header_done()) body_limit_ = claimed_body_limit();
      return send_problem({413, "payload-too-large", "Payload too large",
                           "the request body exceeds " + std::to_string(body_limit_) + " bytes"});
    }
    // A peer that went away, a timeout (Beast has closed the socket already) or our own cancellation.
    if (ec.category() != http_error_category() || ec == bhttp::error::end_of_stream ||
        ec == bhttp::error::partial_message) {
      log::debug("http read ended", {{"remote", remote_address_}, {"error", ec.message()}});
      return close_now();
    }
    send_problem({400, "malformed-request", "Malformed request", "the request is not valid HTTP/1.1: " + ec.message()});
  }

  std::size_t large_body_limit() const { return std::max(limits().max_body_bytes, limits().large_body_bytes); }

  // Whether the request whose head is parsed (its start line and fields, at least up to the error) is on a route
  // that allows a large body.
  bool large_body_route() const {
    const auto& req = parser_->get();
    return limits().allows_large_body &&
           limits().allows_large_body(std::string_view(req.method_string().data(), req.method_string().size()),
                                      std::string_view(req.target().data(), req.target().size()));
  }

  // The largest body limit the request could have had, for the answer to a Content-Length over every limit.
  std::size_t claimed_body_limit() const {
    const auto& req = parser_->get();
    return large_body_route() && req.find(bhttp::field::authorization) != req.end() ? large_body_limit()
                                                                                    : limits().max_body_bytes;
  }

  // Also used for error responses: the parser fills in each field as soon as it is complete, so the id is there
  // even when the head as a whole was rejected (a Content-Length over the limit, say).
  // The request's target as far as the parser read it (empty before the request line).
  std::string_view target_seen() const {
    if (!parser_) return {};
    const auto t = parser_->get().target();
    return {t.data(), t.size()};
  }

  std::string request_id_from_header() const { return client_request_id().value_or(generate_request_id()); }

  std::optional<std::string> client_request_id() const {
    if (parser_) {
      auto it = parser_->get().find("X-Request-Id");
      if (it != parser_->get().end() && valid_request_id(it->value())) return std::string(it->value());
    }
    return std::nullopt;
  }

  void handle_request() {
    auto& msg = parser_->get();
    lowest().expires_never();  // the handler has its own timer; the socket is quiet meanwhile

    Request req = to_request(msg);  // repeated fields joined, so a handler sees one value per name
    req.remote_address = remote_address_;
    // The client's id (when valid) travels back in X-Request-Id; the server's own is unique whatever clients send.
    req.server_request_id = generate_request_id();
    request_id_ = client_request_id().value_or(req.server_request_id);
    req.request_id = request_id_;
    req.received_at = received_at_;

    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    head_request_ = msg.method() == bhttp::verb::head;
    first_request_ = false;
    state_ = State::kHandling;
    const std::uint64_t sequence = ++sequence_;
    in_flight_ = true;
    core_->in_flight_.fetch_add(1);

    handler_timer_.expires_after(limits().handler_timeout);
    handler_timer_.async_wait(
        [self = self(), sequence](beast::error_code ec) { self->on_handler_timeout(ec, sequence); });

    auto state = std::make_shared<RespondState>();
    state->core = core_->shared_from_this();
    state->session = self();
    state->sequence = sequence;
    Respond respond = [state](Response response) {
      if (state->used.exchange(true)) return;  // a second call is a handler bug; the first response stands
      auto session = state->session;
      // Post, never dispatch: the caller may be on this strand inside the handler, or on any other thread.
      net::post(session->executor_, [session, sequence = state->sequence, response = std::move(response)]() mutable {
        session->on_handler_response(sequence, std::move(response));
      });
    };
    try {
      core_->handler_(std::move(req), std::move(respond));
    } catch (const std::exception& e) {
      log::error("http handler threw", {{"requestId", request_id_}, {"error", e.what()}});
      if (!state->used.exchange(true)) {
        Response internal;
        internal.status = 500;
        internal.headers["content-type"] = "application/problem+json";
        internal.body =
            problem_body({500, "internal", "Internal error", "the request handler failed"}, request_id_, target_seen());
        net::post(executor_, [self = self(), sequence, internal = std::move(internal)]() mutable {
          self->on_handler_response(sequence, std::move(internal));
        });
      }
    }
  }

  void on_handler_response(std::uint64_t sequence, Response response) {
    // Late (after a 503) or for a connection that has gone away: nobody is waiting for it any more.
    if (closed_ || state_ != State::kHandling || sequence != sequence_) return;
    handler_timer_.cancel();
    build_response(std::move(response));
    write_response(false);
  }

  void on_handler_timeout(beast::error_code ec, std::uint64_t sequence) {
    if (ec || closed_ || state_ != State::kHandling || sequence != sequence_) return;
    log::warn("http handler did not respond in time",
              {{"requestId", request_id_}, {"timeoutSeconds", limits().handler_timeout.count()}});
    // The handler may still answer later; the sequence check drops that answer.
    send_problem({503, "unavailable", "Service unavailable",
                  "the request was not answered within " + std::to_string(limits().handler_timeout.count()) + " s"});
  }

  void build_response(Response r) {
    int status = r.status;
    if (status < 100 || status > 599) {
      log::error("http handler returned an invalid status", {{"requestId", request_id_}, {"status", status}});
      status = 500;
      r.headers.clear();
      r.body.clear();
    }
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(status));
    for (const auto& [name, value] : r.headers) {
      if (!valid_response_header(name, value)) {
        log::error("http handler returned an invalid header", {{"requestId", request_id_}, {"name", name}});
        continue;
      }
      if (is_server_owned_header(lower_case(name))) continue;
      response_.set(name, value);
    }
    response_.set("X-Request-Id", request_id_);
    const bool bodiless = status < 200 || status == 204 || status == 304;
    if (bodiless) return;  // no body and no Content-Length by definition
    if (head_request_) {
      response_.content_length(r.body.size());  // what a GET would send, without sending it
    } else {
      response_.body() = std::move(r.body);
      response_.prepare_payload();
    }
  }

  // A response the server writes itself; the connection closes after it because the request stream is either
  // unparsable, unread (413/431) or abandoned (503).
  void send_problem(const Problem& problem) {
    if (request_id_.empty() || state_ != State::kHandling) request_id_ = request_id_from_header();
    // The message's version defaults to 1.1 and its method to unknown until the request line has been parsed.
    version_ = parser_ ? parser_->get().version() : 11;
    if (version_ != 10) version_ = 11;
    head_request_ = parser_ && parser_->get().method() == bhttp::verb::head;
    Response r;
    r.status = problem.status;
    r.headers["content-type"] = "application/problem+json";
    r.body = problem_body(problem, request_id_, target_seen());
    build_response(std::move(r));
    write_response(true);
  }

  void write_response(bool must_close) {
    const bool keep = keep_alive_ && !must_close && !stop_requested_ && !core_->stopping_.load();
    keep_alive_ = false;  // the next request sets it again
    response_.keep_alive(keep);
    close_after_write_ = !keep;
    state_ = State::kWriting;
    lowest().expires_after(limits().write_timeout);
    bhttp::async_write(stream_, response_, beast::bind_front_handler(&Session::on_write, self()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (in_flight_) {
      in_flight_ = false;
      core_->in_flight_.fetch_sub(1);
    }
    if (closed_) return;
    if (ec) {
      log::debug("http write failed", {{"remote", remote_address_}, {"error", ec.message()}});
      return close_now();
    }
    request_id_.clear();
    if (close_after_write_) return close_gracefully();
    do_read();
  }

  void close_gracefully() {
    state_ = State::kClosing;
    lowest().expires_after(kLingerTimeout);
    if constexpr (kTls) {
      stream_.async_shutdown([self = self()](beast::error_code) { self->close_now(); });
    } else {
      beast::error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return close_now();
      drain();
    }
  }

  void drain() {
    buffer_.clear();
    lowest().async_read_some(buffer_.prepare(kReadChunkBytes), [self = self()](beast::error_code ec, std::size_t) {
      if (self->closed_) return;
      if (ec) return self->close_now();  // EOF: the client has seen our FIN and closed; or the linger timed out
      self->drain();
    });
  }

  void close_now() {
    if (closed_) return;
    closed_ = true;
    state_ = State::kClosed;
    handler_timer_.cancel();
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
    core_->open_connections_.fetch_sub(1);
    if (!counted_source_.empty()) core_->give_back_source(counted_source_);
    if (in_flight_) {
      in_flight_ = false;
      core_->in_flight_.fetch_sub(1);
    }
  }

  void on_graceful_stop() {
    if (closed_) return;
    stop_requested_ = true;
    // Only a connection waiting for a request closes now; one reading, handling or writing a request finishes
    // it first and then closes (write_response sends Connection: close).
    if (state_ == State::kIdle) close_now();
  }

  Core* core_;
  Stream stream_;
  net::any_io_executor executor_;  // the connection's strand
  net::steady_timer handler_timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  bhttp::response<bhttp::empty_body> continue_response_;
  std::string remote_address_;
  std::string request_id_;
  Clock::time_point received_at_{};
  Clock::time_point read_deadline_{};
  std::uint64_t sequence_ = 0;
  State state_ = State::kStarting;
  bool first_request_ = true;
  bool stop_requested_ = false;
  bool keep_alive_ = false;
  std::size_t body_limit_ = 0;  // this request's
  std::string counted_source_;
  bool close_after_write_ = false;
  bool head_request_ = false;
  bool in_flight_ = false;
  bool closed_ = false;
  unsigned version_ = 11;
};

using PlainSession = Session<beast::tcp_stream>;
using TlsSession = Session<beast::ssl_stream<beast::tcp_stream>>;

void Core::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_),
                         [this](beast::error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void Core::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (stopping_.load()) {
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  if (ec) {
    // EMFILE and friends: retrying at once would spin, so back off a little.
    log::error("http accept failed", {{"address", bound_address_}, {"error", ec.message()}});
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopping_.load()) do_accept();
    });
    return;
  }
  if (open_connections_.load() >= options_.limits.max_connections) {
    log::warn("http connection limit reached; closing a new connection",
              {{"address", bound_address_}, {"maxConnections", options_.limits.max_connections}});
    beast::error_code ignored;
    socket.close(ignored);
    return do_accept();
  }
  std::string source;
  if (options_.limits.max_connections_per_source > 0) {
    beast::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    source = peer_ec ? std::string("unknown") : peer.address().to_string();
    if (!take_source(source)) {
      beast::error_code ignored;
      socket.close(ignored);
      return do_accept();
    }
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  open_connections_.fetch_add(1);
  std::shared_ptr<SessionBase> session;
  if (tls_) {
    auto s = std::make_shared<TlsSession>(this, std::move(socket), *tls_);
    s->count_as(std::move(source));
    s->start();
    session = std::move(s);
  } else {
    auto s = std::make_shared<PlainSession>(this, std::move(socket));
    s->count_as(std::move(source));
    s->start();
    session = std::move(s);
  }
  register_session(next_session_id_++, session);
  do_accept();
}

bool Core::take_source(const std::string& source) {
  std::uint64_t refused = 0;
  {
    std::lock_guard lock(sources_mutex_);
    std::size_t& open = per_source_[source];
    if (open < options_.limits.max_connections_per_source) {
      ++open;
      return true;
    }
    refused = ++refused_per_source_;
  }
  // A flood would fill the log: every refusal is counted, and logged at 1, 2, 4, 8, ...
  if ((refused & (refused - 1)) == 0) {
    log::warn("http per-address connection limit reached; closing new connections from it",
              {{"address", bound_address_},
               {"peer", source},
               {"maxConnectionsPerSource", options_.limits.max_connections_per_source},
               {"refusedSoFar", refused}});
  }
  return false;
}

void Core::give_back_source(const std::string& source) {
  std::lock_guard lock(sources_mutex_);
  auto it = per_source_.find(source);
  if (it == per_source_.end()) return;
  if (--it->second == 0) per_source_.erase(it);
}

void Core::register_session(std::uint64_t id, const std::shared_ptr<SessionBase>& session) {
  net::post(registry_strand_, [this, id, weak = std::weak_ptr<SessionBase>(session)] {
    // stopping_ is set before begin_shutdown is posted here, so a session registered after the sweep sees it.
    if (stopping_.load()) {
      if (auto s = weak.lock()) forced_ ? s->force_close() : s->graceful_stop();
      return;
    }
    sessions_.emplace(id, weak);
    if (sessions_.size() >= sweep_at_) {
      std::erase_if(sessions_, [](const auto& entry) { return entry.second.expired(); });
      sweep_at_ = std::max<std::size_t>(64, 2 * sessions_.size());
    }
  });
}

void Core::begin_shutdown(std::chrono::milliseconds grace) {
  grace_deadline_ = Clock::now() + grace;
  for (auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) s->graceful_stop();
  }
  poll_shutdown();
}

// Polled rather than signalled by the sessions: a session's destructor may run on any thread (a worker
// dropping the last Respond) and must not post into an io_context that may be going away.
void Core::poll_shutdown() {
  if (open_connections_.load() == 0) {
    sessions_.clear();
    log::info("http server stopped", {{"address", bound_address_}});
    return;  // nothing left to wait for: run() returns once the last handlers finish
  }
  const auto now = Clock::now();
  if (!forced_ && now >= grace_deadline_) {
    forced_ = true;
    log::warn("http shutdown grace period over; closing connections",
              {{"address", bound_address_}, {"open", open_connections_.load()}, {"inFlight", in_flight_.load()}});
    for (auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) s->force_close();
    }
  } else if (forced_ && now >= grace_deadline_ + kForceCloseTimeout) {
    log::error("http connections did not close; stopping the I/O threads",
               {{"address", bound_address_}, {"open", open_connections_.load()}});
    ioc_.stop();
    return;
  }
  shutdown_timer_.expires_after(kShutdownPollInterval);
  shutdown_timer_.async_wait([this](beast::error_code ec) {
    if (!ec) poll_shutdown();
  });
}

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(std::shared_ptr<Core> core) : core_(std::move(core)) {}

  ~ServerImpl() override {
    // Pending Respond callbacks may keep the core (and its io_context) alive; without threads to run it their
    // posts are simply dropped with it.
    beast::error_code ec;
    core_->acceptor_.close(ec);
  }

  unsigned short bound_port() const override { return core_->bound_port_; }
  std::string bound_address() const override { return core_->bound_address_; }

  void run() override {
    std::vector<std::thread> threads;
    const unsigned n = core_->thread_count();
    threads.reserve(n - 1);
    for (unsigned i = 1; i < n; ++i) threads.emplace_back([this] { run_one(); });
    run_one();
    for (auto& t : threads) t.join();
  }

  void shutdown(std::chrono::milliseconds grace) override {
    if (core_->stopping_.exchange(true)) return;
    Core* core = core_.get();
    net::post(core->acceptor_.get_executor(), [core] {
      beast::error_code ec;
      core->acceptor_.close(ec);
      core->accept_retry_timer_.cancel();
    });
    net::post(core->registry_strand_, [core, grace] { core->begin_shutdown(grace); });
  }

  std::size_t open_connections() const override { return core_->open_connections_.load(); }
  std::size_t in_flight_requests() const override { return core_->in_flight_.load(); }

 private:
  void run_one() {
    for (;;) {
      try {
        core_->ioc_.run();
        return;
      } catch (const std::exception& e) {
        // Our handlers do not throw by design; if one does, keep serving the other connections.
        log::error("exception escaped an http I/O handler", {{"error", e.what()}});
      }
    }
  }

  std::shared_ptr<Core> core_;
};

Status setup_tls(Core& core) {
  const auto& o = core.options_;
  try {
    auto& ctx = core.tls_.emplace(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
      return make_error(ErrorCode::kInternal, "cannot require TLS 1.2 or later");
    }
    ctx.use_certificate_chain_file(o.tls_cert_file);
    ctx.use_private_key_file(o.tls_key_file, ssl::context::pem);
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
      return make_error(ErrorCode::kInvalid,
                        "TLS key " + o.tls_key_file + " does not match certificate " + o.tls_cert_file);
    }
  } catch (const boost::system::system_error& e) {
    return make_error(ErrorCode::kInvalid, "cannot load TLS certificate " + o.tls_cert_file + " or key " +
                                               o.tls_key_file + ": " + e.code().message());
  }
  return Ok{};
}

Status listen(Core& core) {
  const auto& o = core.options_;
  beast::error_code ec;
  tcp::resolver resolver(core.ioc_);
  auto results =
      resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return make_error(ErrorCode::kInvalid,
                      "cannot resolve listen address " + o.host + ": " + (ec ? ec.message() : "no addresses"));
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  const std::string where = format_endpoint(endpoint);
  auto& acceptor = core.acceptor_;
  if (acceptor.open(endpoint.protocol(), ec)) {
    return make_error(ErrorCode::kUnavailable, "cannot open a socket for " + where + ": " + ec.message());
  }
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (acceptor.bind(endpoint, ec)) {
    if (ec == net::error::address_in_use)
      return make_error(ErrorCode::kUnavailable, "address already in use: " + where);
    return make_error(ErrorCode::kUnavailable, "cannot bind " + where + ": " + ec.message());
  }
  if (acceptor.listen(net::socket_base::max_listen_connections, ec)) {
    return make_error(ErrorCode::kUnavailable, "cannot listen on " + where + ": " + ec.message());
  }
  const auto local = acceptor.local_endpoint(ec);
  core.bound_port_ = local.port();
  core.bound_address_ = format_endpoint(local);
  return Ok{};
}

}  // namespace

Result<std::unique_ptr<Server>> Server::create(ServerOptions options, Handler handler) {
  if (!handler) return make_error(ErrorCode::kInvalid, "the http server needs a handler");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return make_error(ErrorCode::kInvalid, "tls_cert_file and tls_key_file must be set together");
  }
  const bool tls = !options.tls_cert_file.empty();
  auto core = std::make_shared<Core>(std::move(options), std::move(handler));
  if (tls) {
    if (auto status = setup_tls(*core); !status) return status.error();
  }
  if (auto status = listen(*core); !status) return status.error();
  core->do_accept();
  log::info("http server listening", {{"address", core->bound_address_}, {"tls", tls}});
  return std::unique_ptr<Server>(std::make_unique<ServerImpl>(std::move(core)));
}

}  // namespace fleet::http
