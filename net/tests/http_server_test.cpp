// The server over real sockets on 127.0.0.1, driven by a small client made of POSIX sockets and OpenSSL: no
// Beast here, so this file compiles fast and can send bytes no well-behaved client would (garbage, oversized
// heads, half requests). Timing checks use generous margins; none depends on wall-clock precision.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/http_server.hpp"

namespace fleet::http {
namespace {

using namespace std::chrono_literals;

struct RawResponse {
  int status = 0;
  std::string version;  // "HTTP/1.1"
  Headers headers;      // lower-cased names
  std::string body;

  std::string header_or(const std::string& name, const std::string& fallback = "") const {
    auto it = headers.find(name);
    return it == headers.end() ? fallback : it->second;
  }
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_hex16(const std::string& s) {
  return s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Polls `done` until it holds or `within` passes; for state the server updates asynchronously.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds within = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// One client connection, plain or TLS. Every blocking call is bounded by a socket timeout so that a server bug
// fails the test instead of hanging it.
class Conn {
 public:
  // `source`: the local address to connect from (any 127.x.y.z is this machine's loopback).
  explicit Conn(unsigned short port, const char* source = nullptr) {
    ::signal(SIGPIPE, SIG_IGN);  // SSL_write to a server that closed on us must fail, not kill the test
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    set_timeout(10s);
    if (source) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &from.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) return;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    connect_errno_ = connected_ ? 0 : errno;
  }
  ~Conn() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }

  // Handshakes, trusting only `ca_file` (the self-signed server certificate in the tests).
  bool start_tls(const std::string& ca_file) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) return false;
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    const bool ok = SSL_connect(ssl_) == 1 && SSL_get_verify_result(ssl_) == X509_V_OK;
    ERR_clear_error();
    return ok;
  }
  std::string tls_version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }

  bool send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      long n = ssl_ ? SSL_write(ssl_, data.data() + sent, static_cast<int>(data.size() - sent))
                    : ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // One response, or nullopt when the connection closes (or times out) first.
  std::optional<RawResponse> read_response() {
    std::size_t head_end;
    while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    RawResponse res;
    const std::string head = pending_.substr(0, head_end);
    pending_.erase(0, head_end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    res.version = status_line.substr(0, status_line.find(' '));
    res.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      const std::string line = head.substr(pos, end - pos);
      const auto colon = line.find(':');
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      res.headers[lower(line.substr(0, colon))] = value;
      pos = end + 2;
    }
    const std::size_t length = res.headers.count("content-length") ? std::stoul(res.headers["content-length"]) : 0;
    while (pending_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    res.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return res;
  }

  // True when the server closes the connection (EOF or reset) within `within`; data that arrives meanwhile is
  // kept for read_response.
  bool closed_within(std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      set_timeout(left);
      errno = 0;
      char buf[4096];
      long n = read_some(buf, sizeof buf);
      if (n > 0) {
        pending_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      const bool timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
      set_timeout(10s);
      if (!timed_out) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
  }

 private:
  void set_timeout(std::chrono::milliseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(t.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  long read_some(char* buf, std::size_t size) {
    if (!ssl_) return ::recv(fd_, buf, size, 0);
    long n = SSL_read(ssl_, buf, static_cast<int>(size));
    ERR_clear_error();
    return n;
  }

  bool fill() {
    char buf[4096];
    long n = read_some(buf, sizeof buf);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  int connect_errno_ = 0;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string pending_;
};

std::string get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
}

std::string post(const std::string& target, const std::string& body) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

ServerOptions test_options() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  o.limits.read_timeout = 5s;
  o.limits.idle_timeout = 5s;
  o.limits.write_timeout = 5s;
  o.limits.handler_timeout = 5s;
  return o;
}

// Answers at once with what it saw: "<method> <target> <body>", the request id in a header.
void echo_handler(Request req, Respond respond) {
  Response res;
  res.headers["content-type"] = "text/plain";
  res.headers["x-seen-request-id"] = req.request_id;
  res.body = req.method + " " + req.target + " " + req.body;
  respond(std::move(res));
}

// A server running on a background thread (run() adds threads-1 more), shut down at scope exit.
class TestServer {
 public:
  explicit TestServer(Handler handler, ServerOptions options = test_options()) {
    auto created = Server::create(std::move(options), std::move(handler));
    if (!created.ok()) FAIL(created.error().message);
    server_ = std::move(created.value());
    thread_ = std::thread([this] {
      server_->run();
      run_returned_ = true;
    });
  }
  ~TestServer() { stop(1s); }

  Server& operator*() { return *server_; }
  Server* operator->() { return server_.get(); }
  unsigned short port() const { return server_->bound_port(); }
  bool run_returned() const { return run_returned_; }

  void stop(std::chrono::milliseconds grace) {
    if (!thread_.joinable()) return;
    server_->shutdown(grace);
    thread_.join();
  }

 private:
  std::unique_ptr<Server> server_;
  std::atomic<bool> run_returned_{false};
  std::thread thread_;
};

// Threads that answer requests later, as a database worker would; joined at scope exit.
class Workers {
 public:
  ~Workers() {
    std::lock_guard lock(mutex_);
    for (auto& t : threads_) t.join();
  }
  void later(std::chrono::milliseconds delay, std::function<void()> work) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back([delay, work = std::move(work)] {
      std::this_thread::sleep_for(delay);
      work();
    });
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

nlohmann::json problem_of(const RawResponse& res) {
  CHECK(res.header_or("content-type") == "application/problem+json");
  auto j = nlohmann::json::parse(res.body, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  CHECK(j["status"] == res.status);
  CHECK(j["requestId"] == res.header_or("x-request-id"));
  CHECK(j.contains("title"));
  CHECK(j.contains("detail"));
  return j;
}

// A self-signed certificate and key for 127.0.0.1, made with the OpenSSL API in a fresh temporary directory.
class SelfSignedCert {
 public:
  SelfSignedCert() {
    dir_ = std::filesystem::temp_directory_path() /
           ("fleet-http-server-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    REQUIRE(key != nullptr);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1,
                               0);
    X509_set_issuer_name(cert, name);
    REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
    FILE* f = std::fopen(cert_file().c_str(), "w");
    REQUIRE(f != nullptr);
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(key_file().c_str(), "w");
    REQUIRE(f != nullptr);
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~SelfSignedCert() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string cert_file() const { return (dir_ / "cert.pem").string(); }
  std::string key_file() const { return (dir_ / "key.pem").string(); }

 private:
  static inline std::atomic<int> counter_{0};
  std::filesystem::path dir_;
};

}  // namespace

TEST_CASE("server answers GET and POST with the handler's response", "[http-server]") {
  TestServer server(echo_handler);
  CHECK(server->bound_address() == "127.0.0.1:" + std::to_string(server.port()));
  Conn c(server.port());
  REQUIRE(c.connected());

  REQUIRE(c.send(get("/v1/clusters?limit=5")));
  auto res = c.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->version == "HTTP/1.1");
  CHECK(res->body == "GET /v1/clusters?limit=5 ");
  CHECK(res->header_or("content-type") == "text/plain");
  CHECK(is_hex16(res->header_or("x-request-id")));
  CHECK(res->header_or("x-seen-request-id") == res->header_or("x-request-id"));

  REQUIRE(c.send(post("/v1/things", "{\"a\":1}")));
  res = c.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "POST /v1/things {\"a\":1}");
}

TEST_CASE("server hands the handler lower-cased headers, the peer address and the arrival time", "[http-server]") {
  std::mutex mutex;
  std::optional<Request> seen;
  TestServer server([&](Request req, Respond respond) {
    {
      std::lock_guard lock(mutex);
      seen = req;
    }
    respond(Response{204, {{"x-custom", "yes"}}, "ignored for 204", "/test"});
  });
  Conn c(server.port());
  const auto before = std::chrono::steady_clock::now();
  REQUIRE(c.send("GET /x HTTP/1.1\r\nHost: test\r\nX-Mixed-Case: A\r\nAccept: a\r\nAccept: b\r\n\r\n"));
  auto res = c.read_response();
  REQUIRE(res);
  CHECK(res->status == 204);
  CHECK(res->header_or("x-custom") == "yes");
  CHECK(res->headers.count("content-length") == 0);
  std::lock_guard lock(mutex);
  REQUIRE(seen);
  CHECK(*seen->header("x-mixed-case") == "A");
  CHECK(*seen->header("accept") == "a, b");
  CHECK(seen->remote_address.rfind("127.0.0.1:", 0) == 0);
  CHECK(seen->received_at >= before);
}

TEST_CASE("server keeps connections alive for HTTP/1.1 and when HTTP/1.0 asks", "[http-server]") {
  std::atomic<int> calls{0};
  TestServer server([&](Request req, Respond respond) {
    ++calls;
    echo_handler(std::move(req), std::move(respond));
  });

  SECTION("several requests, one after another, on one connection") {
    Conn c(server.port());
    for (int i = 0; i < 5; ++i) {
      REQUIRE(c.send(get("/n/" + std::to_string(i))));
      auto res = c.read_response();
      REQUIRE(res);
      CHECK(res->body == "GET /n/" + std::to_string(i) + " ");
      CHECK(lower(res->header_or("connection")) != "close");
    }
    CHECK(calls == 5);
    CHECK(server->open_connections() == 1);
  }
  SECTION("pipelined requests are answered in order") {
    Conn c(server.port());
    REQUIRE(c.send(get("/a") + post("/b", "bb") + get("/c")));
    for (const char* expected : {"GET /a ", "POST /b bb", "GET /c "}) {
      auto res = c.read_response();
      REQUIRE(res);
      CHECK(res->body == expected);
    }
  }
  SECTION("HTTP/1.0 without keep-alive: answered, then closed") {
    Conn c(server.port());
    REQUIRE(c.send("GET /old HTTP/1.0\r\n\r\n"));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->version == "HTTP/1.0");
    CHECK(res->body == "GET /old ");
    CHECK(c.closed_within(5s));
  }
  SECTION("HTTP/1.0 with Connection: keep-alive stays open") {
    Conn c(server.port());
    for (int i = 0; i < 2; ++i) {
      REQUIRE(c.send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      auto res = c.read_response();
      REQUIRE(res);
      CHECK(lower(res->header_or("connection")) == "keep-alive");
    }
  }
  SECTION("HTTP/1.1 with Connection: close: answered, then closed") {
    Conn c(server.port());
    REQUIRE(c.send(get("/bye", "Connection: close\r\n")));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(lower(res->header_or("connection")) == "close");
    CHECK(c.closed_within(5s));
  }
}

TEST_CASE("server echoes a valid X-Request-Id and replaces an invalid one", "[http-server]") {
  TestServer server(echo_handler);
  Conn c(server.port());
  const std::string valid = "client-id_1.2:3";
  REQUIRE(c.send(get("/", "X-Request-Id: " + valid + "\r\n")));
  auto res = c.read_response();
  REQUIRE(res);
  CHECK(res->header_or("x-request-id") == valid);
  CHECK(res->header_or("x-seen-request-id") == valid);

  const std::string longest(128, 'a');
  REQUIRE(c.send(get("/", "X-Request-Id: " + longest + "\r\n")));
  res = c.read_response();
  REQUIRE(res);
  CHECK(res->header_or("x-request-id") == longest);

  for (const std::string& invalid : {std::string("has space"), std::string(129, 'a'), std::string("semi;colon"),
                                     std::string("slash/no"), std::string("")}) {
    INFO(invalid);
    REQUIRE(c.send(get("/", "X-Request-Id: " + invalid + "\r\n")));
    res = c.read_response();
    REQUIRE(res);
    CHECK(is_hex16(res->header_or("x-request-id")));
    CHECK(res->header_or("x-seen-request-id") == res->header_or("x-request-id"));
  }

  // A handler cannot override the id.
  TestServer other([](Request, Respond respond) { respond(Response{200, {{"x-request-id", "forged"}}, "", "/"}); });
  Conn d(other.port());
  REQUIRE(d.send(get("/", "X-Request-Id: mine\r\n")));
  res = d.read_response();
  REQUIRE(res);
  CHECK(res->header_or("x-request-id") == "mine");
}

TEST_CASE("server rejects a body over the limit with 413 without calling the handler", "[http-server]") {
  std::atomic<int> calls{0};
  ServerOptions options = test_options();
  options.limits.max_body_bytes = 1024;
  TestServer server(
      [&](Request req, Respond respond) {
        ++calls;
        echo_handler(std::move(req), std::move(respond));
      },
      options);

  SECTION("a Content-Length over the limit is refused before the body is sent") {
    Conn c(server.port());
    REQUIRE(c.send("POST /upload HTTP/1.1\r\nHost: test\r\nX-Request-Id: big-1\r\nContent-Length: 1000000\r\n\r\n"));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(res->header_or("x-request-id") == "big-1");
    CHECK(lower(res->header_or("connection")) == "close");
    auto problem = problem_of(*res);
    CHECK(problem["type"] == "urn:fleetd:problem:payload-too-large");
    CHECK(problem["instance"] == "/upload");  // RFC 9457: every problem names its occurrence
    CHECK(c.closed_within(5s));
  }
  SECTION("a chunked body is limited too") {
    Conn c(server.port());
    std::string chunked = "POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) chunked += "200\r\n" + std::string(512, 'x') + "\r\n";
    chunked += "0\r\n\r\n";
    REQUIRE(c.send(chunked));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(problem_of(*res)["type"] == "urn:fleetd:problem:payload-too-large");
    CHECK(c.closed_within(5s));
  }
  SECTION("a body of exactly the limit is accepted, chunked or not") {
    Conn c(server.port());
    REQUIRE(c.send(post("/upload", std::string(1024, 'y'))));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 200);
    REQUIRE(c.send("POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" +
                   std::string(1024, 'z') + "\r\n0\r\n\r\n"));
    res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "POST /upload " + std::string(1024, 'z'));
    calls -= 2;
  }
  CHECK(calls == 0);
}

TEST_CASE("server lets chosen authenticated requests carry a larger body", "[http-server]") {
  std::atomic<int> calls{0};
  ServerOptions options = test_options();
  options.limits.max_body_bytes = 1024;
  options.limits.large_body_bytes = 8192;
  options.limits.allows_large_body = [](std::string_view method, std::string_view target) {
    return method == "POST" && target == "/big";
  };
  TestServer server(
      [&](Request req, Respond respond) {
        ++calls;
        echo_handler(std::move(req), std::move(respond));
      },
      options);
  auto request = [](const std::string& target, std::size_t bytes, bool authorized) {
    return "POST " + target + " HTTP/1.1\r\nHost: test\r\n" + (authorized ? "Authorization: Bearer x\r\n" : "") +
           "Content-Length: " + std::to_string(bytes) + "\r\n\r\n" + std::string(bytes, 'b');
  };
  SECTION("the chosen route takes up to the large limit") {
    Conn c(server.port());
    REQUIRE(c.send(request("/big", 8192, true)));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(calls == 1);
  }
  SECTION("and no more") {
    Conn c(server.port());
    REQUIRE(c.send("POST /big HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer x\r\nContent-Length: 8193\r\n\r\n"));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(problem_of(*res)["detail"] == "the request body exceeds 8192 bytes");
  }
  SECTION("other routes, and the chosen one without credentials, keep the normal limit") {
    Conn c(server.port());
    REQUIRE(c.send("POST /small HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer x\r\nContent-Length: 2000\r\n\r\n"));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(problem_of(*res)["detail"] == "the request body exceeds 1024 bytes");
    Conn d(server.port());
    REQUIRE(d.send("POST /big HTTP/1.1\r\nHost: test\r\nContent-Length: 2000\r\n\r\n"));
    res = d.read_response();
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(calls == 0);
  }
  SECTION("a chunked body on the chosen route is held to the large limit too") {
    Conn c(server.port());
    std::string chunked =
        "POST /big HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) chunked += "200\r\n" + std::string(512, 'x') + "\r\n";
    chunked += "0\r\n\r\n";
    REQUIRE(c.send(chunked));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 413);
  }
}

TEST_CASE("server asks the application to vouch for a large body's credential before reading it", "[http-server]") {
  std::atomic<int> calls{0};
  std::atomic<int> asked{0};
  ServerOptions options = test_options();
  options.limits.max_body_bytes = 1024;
  options.limits.large_body_bytes = 8192;
  options.limits.allows_large_body = [](std::string_view method, std::string_view target) {
    return method == "POST" && target == "/big";
  };
  options.limits.authorize_large_body = [&](std::string_view target, std::string_view authorization,
                                            LargeBodyVerdict verdict) {
    ++asked;
    const bool good = target == "/big" && authorization == "Bearer good";
    if (authorization == "Bearer slow") {  // answered later from another thread, as a database lookup is
      std::thread([verdict] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        verdict(true);
      }).detach();
      return;
    }
    verdict(good);
  };
  TestServer server(
      [&](Request req, Respond respond) {
        ++calls;
        echo_handler(std::move(req), std::move(respond));
      },
      options);
  auto head = [](const std::string& credential, std::size_t bytes) {
    return "POST /big HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + credential +
           "\r\nContent-Length: " + std::to_string(bytes) + "\r\n\r\n";
  };
  SECTION("a credential it knows gets the large limit") {
    Conn c(server.port());
    REQUIRE(c.send(head("good", 8000) + std::string(8000, 'b')));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(asked == 1);
  }
  SECTION("one it does not know gets 413 before the body is sent") {
    Conn c(server.port());
    REQUIRE(c.send(head("x", 8000)));  // no body follows: the answer cannot wait for it
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(problem_of(*res)["detail"] == "the request body exceeds 1024 bytes");
    CHECK(calls == 0);
  }
  SECTION("a chunked body from an unknown credential is held to the normal limit") {
    Conn c(server.port());
    std::string chunked =
        "POST /big HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) chunked += "200\r\n" + std::string(512, 'x') + "\r\n";
    chunked += "0\r\n\r\n";
    REQUIRE(c.send(chunked));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(asked == 1);
  }
  SECTION("an answer from another thread, later, is waited for") {
    Conn c(server.port());
    REQUIRE(c.send(head("slow", 8000) + std::string(8000, 'b')));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 200);
    REQUIRE(c.send(head("slow", 10)));  // the connection goes on
    REQUIRE(c.send(std::string(10, 'b')));
    res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 200);
  }
  SECTION("a body that fits the normal limit is not asked about") {
    Conn c(server.port());
    REQUIRE(c.send(head("x", 1000) + std::string(1000, 'b')));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(asked == 0);
  }
}

TEST_CASE("server answers 500 when the handler throws, and rejects invalid handler output", "[http-server]") {
  TestServer server([](Request req, Respond respond) {
    if (req.target == "/throw") throw std::runtime_error("boom");
    if (req.target == "/bad-status") return respond(Response{42, {}, "x", "/"});
    respond(Response{200, {{"x-evil", "a\r\nInjected: yes"}, {"content-length", "999"}}, "fine", "/"});
  });
  Conn c(server.port());
  REQUIRE(c.send(get("/throw")));
  auto res = c.read_response();
  REQUIRE(res);
  CHECK(res->status == 500);
  CHECK(problem_of(*res)["type"] == "urn:fleetd:problem:internal");
  REQUIRE(c.send(get("/bad-status")));
  res = c.read_response();
  REQUIRE(res);
  CHECK(res->status == 500);
  REQUIRE(c.send(get("/headers")));
  res = c.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "fine");
  CHECK(res->headers.count("x-evil") == 0);
  CHECK(res->headers.count("injected") == 0);
}

TEST_CASE("server answers Expect: 100-continue before reading the body", "[http-server]") {
  TestServer server(echo_handler);
  Conn c(server.port());
  REQUIRE(c.send("POST /e HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
  auto interim = c.read_response();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  REQUIRE(c.send("abc"));
  auto res = c.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "POST /e abc");
}

TEST_CASE("server rejects an oversized request head with 431", "[http-server]") {
  std::atomic<int> calls{0};
  ServerOptions options = test_options();
  options.limits.max_header_bytes = 2048;
  TestServer server(
      [&](Request req, Respond respond) {
        ++calls;
        echo_handler(std::move(req), std::move(respond));
      },
      options);
  Conn c(server.port());
  REQUIRE(c.send(get("/", "X-Big: " + std::string(4000, 'a') + "\r\n")));
  auto res = c.read_response();
  REQUIRE(res);
  CHECK(res->status == 431);
  CHECK(is_hex16(res->header_or("x-request-id")));
  const auto problem = problem_of(*res);
  CHECK(problem["type"] == "urn:fleetd:problem:header-too-large");
  // The path when the request line was read before the limit stopped the parser, else the request id as a URN.
  const std::string instance = problem.value("instance", "");
  CHECK((instance == "/" || instance == "urn:fleetd:request:" + res->header_or("x-request-id")));
  CHECK(c.closed_within(5s));
  CHECK(calls == 0);
}

TEST_CASE("server answers garbage with 400 and closes the connection", "[http-server]") {
  std::atomic<int> calls{0};
  TestServer server([&](Request req, Respond respond) {
    ++calls;
    echo_handler(std::move(req), std::move(respond));
  });
  for (const std::string& garbage :
       {std::string("THIS IS NOT HTTP\r\n\r\n"), std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n")}) {
    INFO(garbage);
    Conn c(server.port());
    REQUIRE(c.send(garbage));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(problem_of(*res)["type"] == "urn:fleetd:problem:malformed-request");
    CHECK(c.closed_within(5s));
  }
  CHECK(calls == 0);
  CHECK(eventually([&] { return server->open_connections() == 0; }));
}

TEST_CASE("server closes idle keep-alive connections and stalled requests", "[http-server]") {
  ServerOptions options = test_options();
  options.limits.idle_timeout = 2s;
  options.limits.read_timeout = 2s;
  TestServer server(echo_handler, options);

  SECTION("idle after a response: closed after the idle timeout, not before") {
    Conn c(server.port());
    REQUIRE(c.send(get("/")));
    REQUIRE(c.read_response());
    CHECK_FALSE(c.closed_within(300ms));
    CHECK(c.closed_within(15s));
  }
  SECTION("a request head that never completes: closed after the read timeout") {
    Conn c(server.port());
    REQUIRE(c.send("GET / HTTP/1.1\r\nHost: te"));
    CHECK(c.closed_within(15s));
  }
  SECTION("a connection that never sends anything: closed after the read timeout") {
    Conn c(server.port());
    CHECK(c.closed_within(15s));
  }
  CHECK(eventually([&] { return server->open_connections() == 0; }));
}

TEST_CASE("server sends a response the handler gives from another thread later", "[http-server]") {
  Workers workers;
  TestServer server([&](Request req, Respond respond) {
    if (req.target == "/later") {
      workers.later(200ms, [respond, id = req.request_id] {
        respond(Response{200, {{"content-type", "text/plain"}}, "first " + id, "/later"});
        respond(Response{500, {}, "second answer must be ignored", "/later"});
      });
      return;
    }
    echo_handler(std::move(req), std::move(respond));
  });
  Conn c(server.port());
  REQUIRE(c.send(get("/later", "X-Request-Id: r-1\r\n")));
  CHECK(eventually([&] { return server->in_flight_requests() == 1; }));
  auto res = c.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "first r-1");
  // The connection carries on with the next request, and the duplicate answer never shows up.
  REQUIRE(c.send(get("/next")));
  res = c.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "GET /next ");
  CHECK(eventually([&] { return server->in_flight_requests() == 0; }));
}

TEST_CASE("server answers 503 when the handler does not respond in time, and ignores a late answer", "[http-server]") {
  std::mutex mutex;
  std::vector<Respond> parked;
  ServerOptions options = test_options();
  options.limits.handler_timeout = 1s;
  {
    TestServer server(
        [&](Request, Respond respond) {
          std::lock_guard lock(mutex);
          parked.push_back(std::move(respond));
        },
        options);
    Conn c(server.port());
    REQUIRE(c.send(get("/stuck", "X-Request-Id: stuck-1\r\n")));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 503);
    CHECK(res->header_or("x-request-id") == "stuck-1");
    CHECK(lower(res->header_or("connection")) == "close");
    CHECK(problem_of(*res)["type"] == "urn:fleetd:problem:unavailable");
    CHECK(c.closed_within(5s));
    CHECK(eventually([&] { return server->in_flight_requests() == 0 && server->open_connections() == 0; }));

    std::lock_guard lock(mutex);
    REQUIRE(parked.size() == 1);
    parked[0](Response{200, {}, "too late", "/stuck"});  // the connection is gone: ignored
  }
  // And after the server itself is gone: still harmless.
  parked[0](Response{200, {}, "much too late", "/stuck"});
  parked.clear();
}

TEST_CASE("server shutdown lets an in-flight request finish, closes idle connections, refuses new ones",
          "[http-server]") {
  Workers workers;
  std::atomic<bool> slow_started{false};
  TestServer server([&](Request req, Respond respond) {
    if (req.target == "/slow") {
      slow_started = true;
      workers.later(1500ms, [respond] {
        respond(Response{200, {{"content-type", "text/plain"}}, "slow done", "/slow"});
      });
      return;
    }
    echo_handler(std::move(req), std::move(respond));
  });

  Conn idle(server.port());
  REQUIRE(idle.send(get("/fast")));
  REQUIRE(idle.read_response());
  Conn busy(server.port());
  REQUIRE(busy.send(get("/slow")));
  REQUIRE(eventually([&] { return slow_started.load() && server->in_flight_requests() == 1; }));
  CHECK(server->open_connections() == 2);

  server->shutdown(20s);
  CHECK(idle.closed_within(5s));
  CHECK(eventually([&] {
    Conn fresh(server.port());
    return !fresh.connected() && fresh.connect_errno() == ECONNREFUSED;
  }));
  CHECK_FALSE(server.run_returned());  // still waiting for /slow

  auto res = busy.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "slow done");
  CHECK(lower(res->header_or("connection")) == "close");
  CHECK(busy.closed_within(5s));
  CHECK(eventually([&] { return server.run_returned(); }, 10s));
  CHECK(server->open_connections() == 0);
  CHECK(server->in_flight_requests() == 0);
}

TEST_CASE("server shutdown force-closes what is still running after the grace period", "[http-server]") {
  std::mutex mutex;
  std::vector<Respond> parked;
  ServerOptions options = test_options();
  options.limits.handler_timeout = 60s;
  auto server = std::make_unique<TestServer>(
      [&](Request, Respond respond) {
        std::lock_guard lock(mutex);
        parked.push_back(std::move(respond));
      },
      options);
  Conn c(server->port());
  REQUIRE(c.send(get("/never")));
  REQUIRE(eventually([&] { return (*server)->in_flight_requests() == 1; }));

  const auto start = std::chrono::steady_clock::now();
  (*server)->shutdown(300ms);
  CHECK(eventually([&] { return server->run_returned(); }, 10s));
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(c.closed_within(5s));
  CHECK((*server)->open_connections() == 0);
  CHECK((*server)->in_flight_requests() == 0);
  server.reset();
  // The handler answers after the server is destroyed: nothing happens, nothing crashes.
  std::lock_guard lock(mutex);
  REQUIRE(parked.size() == 1);
  parked[0](Response{200, {}, "after the end", "/never"});
}

TEST_CASE("server enforces max_connections", "[http-server]") {
  ServerOptions options = test_options();
  options.limits.max_connections = 2;
  TestServer server(echo_handler, options);
  auto a = std::make_unique<Conn>(server.port());
  Conn b(server.port());
  for (Conn* c : {a.get(), &b}) {
    REQUIRE(c->send(get("/")));
    REQUIRE(c->read_response());
  }
  CHECK(server->open_connections() == 2);
  {
    Conn extra(server.port());  // the kernel accepts it; the server closes it at once
    CHECK(extra.closed_within(5s));
  }
  // Room again once one closes.
  a.reset();
  REQUIRE(eventually([&] { return server->open_connections() == 1; }));
  Conn again(server.port());
  REQUIRE(again.send(get("/again")));
  auto res = again.read_response();
  REQUIRE(res);
  CHECK(res->body == "GET /again ");
}

TEST_CASE("server caps connections per peer address, and another address is still served", "[http-server]") {
  ServerOptions options = test_options();
  options.limits.max_connections = 100;
  options.limits.max_connections_per_source = 3;
  TestServer server(echo_handler, options);
  std::vector<std::unique_ptr<Conn>> flood;
  for (int i = 0; i < 3; ++i) {
    flood.push_back(std::make_unique<Conn>(server.port(), "127.0.0.1"));
    REQUIRE(flood.back()->send(get("/")));
    REQUIRE(flood.back()->read_response());
  }
  for (int i = 0; i < 5; ++i) {
    Conn extra(server.port(), "127.0.0.1");  // the kernel accepts it; the server closes it at once
    CHECK(extra.closed_within(5s));
  }
  CHECK(server->open_connections() == 3);
  // Another address is served while the first is at its cap.
  Conn other(server.port(), "127.0.0.2");
  REQUIRE(other.connected());
  REQUIRE(other.send(get("/other")));
  auto res = other.read_response();
  REQUIRE(res);
  CHECK(res->body == "GET /other ");
  // The first address gets room back as its connections close.
  flood.pop_back();
  REQUIRE(eventually([&] { return server->open_connections() == 3; }));
  Conn again(server.port(), "127.0.0.1");
  REQUIRE(again.send(get("/again")));
  res = again.read_response();
  REQUIRE(res);
  CHECK(res->body == "GET /again ");
}

TEST_CASE("server create reports bind errors and bad TLS files", "[http-server]") {
  TestServer first(echo_handler);
  ServerOptions options = test_options();
  options.port = first.port();
  auto second = Server::create(options, echo_handler);
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().message == "address already in use: 127.0.0.1:" + std::to_string(first.port()));

  ServerOptions tls = test_options();
  tls.tls_cert_file = "/nonexistent/cert.pem";
  tls.tls_key_file = "/nonexistent/key.pem";
  auto bad = Server::create(tls, echo_handler);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("/nonexistent/cert.pem"));

  tls.tls_key_file.clear();
  auto half = Server::create(tls, echo_handler);
  REQUIRE_FALSE(half.ok());
  CHECK(half.error().code == ErrorCode::kInvalid);
}

TEST_CASE("server serves HTTPS with the same behaviour", "[http-server]") {
  SelfSignedCert cert;
  ServerOptions options = test_options();
  options.tls_cert_file = cert.cert_file();
  options.tls_key_file = cert.key_file();
  options.limits.max_body_bytes = 1024;
  TestServer server(echo_handler, options);

  Conn c(server.port());
  REQUIRE(c.start_tls(cert.cert_file()));
  CHECK((c.tls_version() == "TLSv1.2" || c.tls_version() == "TLSv1.3"));
  for (int i = 0; i < 2; ++i) {  // kept alive over TLS
    REQUIRE(c.send(post("/secure", "s" + std::to_string(i))));
    auto res = c.read_response();
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "POST /secure s" + std::to_string(i));
  }

  Conn big(server.port());
  REQUIRE(big.start_tls(cert.cert_file()));
  REQUIRE(big.send("POST /secure HTTP/1.1\r\nHost: test\r\nContent-Length: 5000\r\n\r\n"));
  auto res = big.read_response();
  REQUIRE(res);
  CHECK(res->status == 413);
  CHECK(big.closed_within(5s));

  // Plain HTTP to the TLS port: the handshake fails and the connection closes; the server carries on.
  Conn plain(server.port());
  REQUIRE(plain.send(get("/")));
  CHECK(plain.closed_within(5s));
  CHECK(eventually([&] { return server->open_connections() == 1; }));
}

}  // namespace fleet::http
