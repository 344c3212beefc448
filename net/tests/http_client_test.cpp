// The client against a tiny server made of POSIX sockets and OpenSSL's SSL_accept: no Beast here, so this file
// compiles fast and the client is checked against an independent HTTP implementation.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.hpp"

namespace fleet::http {
namespace {

// Test PKI valid 2000-2125 (so no test depends on today's date): a CA, a server certificate for localhost and
// 127.0.0.1 signed by it, one for wrong.example signed by it, and an unrelated CA.
constexpr const char* kCaPem = R"PEM(-----BEGIN CERTIFICATE-----
MIIBZDCCAQqgAwIBAgICEAAwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNZmxlZXQg
dGVzdCBDQTAgFw0wMDAxMDEwMDAwMDBaGA8yMTI1MDEwMTAwMDAwMFowGDEWMBQG
A1UEAwwNZmxlZXQgdGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCI2
7fe/8/99/im61eBCde6s4KfyWsewiCu+X3sc3HExj/GiyV+nSpP5SewPNL7O6YOa
Mri5UIJekbx77djY4P+jQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD
AgEGMB0GA1UdDgQWBBRgytWVoseJbhvTDQOve7asN5d/gjAKBggqhkjOPQQDAgNI
ADBFAiBaXnoR8FmphSSAG/KgkYCJcXHqxx0bl5D5KC2VJFuqbgIhAJ4/wr92bbVR
7JJWkYmEirmZWJcXqupt9fM0nUH0K8/Q
-----END CERTIFICATE-----
)PEM";
constexpr const char* kOtherCaPem = R"PEM(-----BEGIN CERTIFICATE-----
MIIBWzCCAQCgAwIBAgICEAEwCgYIKoZIzj0EAwIwEzERMA8GA1UEAwwIb3RoZXIg
Q0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEyNTAxMDEwMDAwMDBaMBMxETAPBgNVBAMM
CG90aGVyIENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIPHbQUc8f0JnyO7w
Xr6IVJEcQJMLWfRwHXKuxQZtVEWZAB714lLFUNaSaUFBIrAB3/YFAW5hgPjWWS4Q
GbTr2qNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0O
BBYEFIJ086xxoWk2BcC46fbUrmU179B9MAoGCCqGSM49BAMCA0kAMEYCIQCpdZgg
AFYfO6rfVwBt17UD5FO0/VCNcSEo83BuE6Y5sAIhAMMbfDxuErPxNSKzLZgGho5o
0+rimNR850ov54dETx/I
-----END CERTIFICATE-----
)PEM";
constexpr const char* kServerCertPem = R"PEM(-----BEGIN CERTIFICATE-----
MIIBmDCCAT+gAwIBAgICEAIwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNZmxlZXQg
dGVzdCBDQTAgFw0wMDAxMDEwMDAwMDBaGA8yMTI1MDEwMTAwMDAwMFowETEPMA0G
A1UEAwwGc2VydmVyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE22s4OUNA0WnT
JRx0ZvcYe71/pnDaAdaK+L+5UdGqQ4cVADLhI+DSVqUZxi+uyfrfsetuiPzEMUH/
TYYxfU+aoaN+MHwwCQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcDATAaBgNV
HREEEzARgglsb2NhbGhvc3SHBH8AAAEwHQYDVR0OBBYEFBzul4S7+IIyNa0G3PNy
XULMYpBdMB8GA1UdIwQYMBaAFGDK1ZWix4luG9MNA697tqw3l3+CMAoGCCqGSM49
BAMCA0cAMEQCIEO7YCz1mHaj/jVRgBKb8MAzjWHIMwIF+rZNaRsrPA7AAiBgkyfo
yZXX81GqiCBweGXuZSm3p8SL22O6w8WEdz1WjQ==
-----END CERTIFICATE-----
)PEM";
constexpr const char* kServerKeyPem = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvx7XSmP+DOksrkSv
JoBRmlnAHp31lcyI6/GaXzvGhbehRANCAATbazg5Q0DRadMlHHRm9xh7vX+mcNoB
1or4v7lR0apDhxUAMuEj4NJWpRnGL67J+t+x626I/MQxQf9NhjF9T5qh
-----END PRIVATE KEY-----
)PEM";
constexpr const char* kWrongHostCertPem = R"PEM(-----BEGIN CERTIFICATE-----
MIIBmjCCAUCgAwIBAgICEAMwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNZmxlZXQg
dGVzdCBDQTAgFw0wMDAxMDEwMDAwMDBaGA8yMTI1MDEwMTAwMDAwMFowFDESMBAG
A1UEAwwJd3Jvbmdob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmOkYnfWG
SvARqIbIuViRB2OlAgABxKBnBTONwxLFkK8R2TfJLET5NViIfyQ2yoBEpBjs2jgL
BXyrAIJag4wRIKN8MHowCQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcDATAY
BgNVHREEETAPgg13cm9uZy5leGFtcGxlMB0GA1UdDgQWBBQjCUcl6soXxPxrCjWf
p/fe4K13lzAfBgNVHSMEGDAWgBRgytWVoseJbhvTDQOve7asN5d/gjAKBggqhkjO
PQQDAgNIADBFAiBoUWJueQLdeOe1d9PnaU08G+Ai0nWMwjsYRGruPduLGQIhAJ3i
kBrOYzv1vq3NSmybo24lVA0xVl+WIjNT8flEvscc
-----END CERTIFICATE-----
)PEM";
constexpr const char* kWrongHostKeyPem = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDxTv3ngb0E5RcCqE
K+J31jAXZCAmkhwc1qI7cqWqqDyhRANCAASY6Rid9YZK8BGohsi5WJEHY6UCAAHE
oGcFM43DEsWQrxHZN8ksRPk1WIh/JDbKgESkGOzaOAsFfKsAglqDjBEg
-----END PRIVATE KEY-----
)PEM";

struct SeenRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
};

struct Reply {
  std::string raw;           // the full response bytes
  bool close_after = false;  // close the connection without saying so (a server's idle timeout)
  std::chrono::milliseconds delay{0};
};

std::string ok_reply(const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra_headers + "\r\n" + body;
}

std::string lower_copy(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One connection at a time (the client under test is synchronous), served on a background thread.
class RawSocketServer {
 public:
  using Handler = std::function<Reply(const SeenRequest&)>;

  explicit RawSocketServer(Handler handler, const char* cert_pem = nullptr, const char* key_pem = nullptr)
      : handler_(std::move(handler)) {
    ::signal(SIGPIPE, SIG_IGN);  // the server may write to a client that already gave up (the timeout test)
    if (cert_pem) tls_ = make_tls_context(cert_pem, key_pem);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~RawSocketServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
    if (tls_) SSL_CTX_free(tls_);
  }

  int port() const { return port_; }
  int connections() const { return connections_; }

  // Asks each TLS client for a certificate (any will do: this checks that one is sent, not who signed it) and
  // refuses a client without one. Call before the first connection.
  void require_client_certificate() {
    SSL_CTX_set_verify(tls_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, [](int, X509_STORE_CTX*) { return 1; });
  }
  // The subject CN of the last client certificate presented.
  std::string client_cn() {
    std::lock_guard lock(mutex_);
    return client_cn_;
  }
  std::vector<SeenRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  static SSL_CTX* make_tls_context(const char* cert_pem, const char* key_pem) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    BIO* cert_bio = BIO_new_mem_buf(cert_pem, -1);
    X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    BIO* key_bio = BIO_new_mem_buf(key_pem, -1);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    REQUIRE(cert != nullptr);
    REQUIRE(key != nullptr);
    REQUIRE(SSL_CTX_use_certificate(ctx, cert) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(ctx, key) == 1);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(cert_bio);
    BIO_free(key_bio);
    return ctx;
  }

  bool wait_readable(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) return true;
    }
    return false;
  }

  void serve() {
    while (wait_readable(listen_fd_)) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      SSL* ssl = nullptr;
      if (tls_) {
        ssl = SSL_new(tls_);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) {  // e.g. the client rejected our certificate
          ERR_clear_error();
          SSL_free(ssl);
          ::close(fd);
          continue;
        }
        if (X509* peer = SSL_get1_peer_certificate(ssl)) {
          char cn[256] = {};
          X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
          std::lock_guard lock(mutex_);
          client_cn_ = cn;
          X509_free(peer);
        }
      }
      serve_connection(fd, ssl);
      if (ssl) SSL_free(ssl);
      ::close(fd);
    }
  }

  // Returns bytes read, 0 at EOF or error.
  long read_some(int fd, SSL* ssl, char* buf, int size) {
    if (!(ssl && SSL_pending(ssl) > 0) && !wait_readable(fd)) return 0;
    long n = ssl ? SSL_read(ssl, buf, size) : ::recv(fd, buf, static_cast<size_t>(size), 0);
    return n > 0 ? n : 0;
  }

  void write_all(int fd, SSL* ssl, const std::string& data) {
    if (ssl) {
      SSL_write(ssl, data.data(), static_cast<int>(data.size()));
    } else {
      ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    }
  }

  void serve_connection(int fd, SSL* ssl) {
    std::string buffer;
    char chunk[4096];
    while (!stop_) {
      std::size_t head_end;
      while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        long n = read_some(fd, ssl, chunk, sizeof chunk);
        if (n == 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      SeenRequest req;
      std::string head = buffer.substr(0, head_end);
      buffer.erase(0, head_end + 4);
      auto line_end = head.find("\r\n");
      std::string request_line = head.substr(0, line_end);
      auto sp1 = request_line.find(' ');
      auto sp2 = request_line.rfind(' ');
      req.method = request_line.substr(0, sp1);
      req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
      std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        auto end = head.find("\r\n", pos);
        if (end == std::string::npos) end = head.size();
        auto line = head.substr(pos, end - pos);
        auto colon = line.find(':');
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        req.headers[lower_copy(line.substr(0, colon))] = value;
        pos = end + 2;
      }
      std::size_t length = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
      while (buffer.size() < length) {
        long n = read_some(fd, ssl, chunk, sizeof chunk);
        if (n == 0) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
      }
      req.body = buffer.substr(0, length);
      buffer.erase(0, length);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(req);
      }
      Reply reply = handler_(req);
      for (auto waited = std::chrono::milliseconds(0); waited < reply.delay && !stop_;
           waited += std::chrono::milliseconds(10)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      write_all(fd, ssl, reply.raw);
      if (reply.close_after) return;
    }
  }

  Handler handler_;
  SSL_CTX* tls_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mutex_;
  std::vector<SeenRequest> requests_;
  std::string client_cn_;
  std::thread thread_;
};

std::unique_ptr<Client> make_client(const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                    const std::string& ca_file = "") {
  ClientOptions options;
  options.base_url = url;
  options.timeout = timeout;
  options.ca_file = ca_file;
  auto client = Client::create(options);
  REQUIRE(client.ok());
  return std::move(client.value());
}

std::string local_url(const RawSocketServer& server, const std::string& scheme = "http",
                      const std::string& host = "127.0.0.1") {
  return scheme + "://" + host + ":" + std::to_string(server.port());
}

// Writes a PEM to a unique temporary file, removed at scope exit.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("fleet_http_client_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".pem");
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace

TEST_CASE("client sends a request and returns status, lower-cased headers and body", "[http-client]") {
  RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply(R"({"a":1})", "X-Request-Id: r1\r\n")}; });
  auto client = make_client(local_url(server));
  auto res = client->request("POST", "/v1/clusters?x=1", {{"Authorization", "Bearer t"}}, R"({"name":"c"})");
  REQUIRE(res.ok());
  CHECK(res->status == 200);
  CHECK(res->body == R"({"a":1})");
  CHECK(res->headers.at("x-request-id") == "r1");
  CHECK(res->headers.at("content-type") == "application/json");
  auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/v1/clusters?x=1");
  CHECK(seen[0].headers["authorization"] == "Bearer t");
  CHECK(seen[0].headers["host"] == "127.0.0.1:" + std::to_string(server.port()));
  CHECK(seen[0].headers["content-type"] == "application/json");
  CHECK(seen[0].headers.count("user-agent") == 1);
  CHECK(seen[0].body == R"({"name":"c"})");
}

TEST_CASE("client returns HTTP error statuses as responses, not errors", "[http-client]") {
  RawSocketServer server([](const SeenRequest&) {
    std::string body = R"({"type":"urn:fleetd:problem:not-found","status":404})";
    return Reply{"HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body};
  });
  auto client = make_client(local_url(server));
  auto res = client->request("GET", "/v1/clusters/x");
  REQUIRE(res.ok());
  CHECK(res->status == 404);
  CHECK(res->headers.at("content-type") == "application/problem+json");
}

TEST_CASE("client reuses a kept-alive connection", "[http-client]") {
  RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply("{}")}; });
  auto client = make_client(local_url(server));
  for (int i = 0; i < 3; ++i) {
    auto res = client->request("GET", "/healthz");
    REQUIRE(res.ok());
    CHECK(res->status == 200);
  }
  CHECK(server.connections() == 1);
  CHECK(server.requests().size() == 3);
}

TEST_CASE("client reconnects silently once when the server closed the kept-alive connection", "[http-client]") {
  // The server answers as if keeping the connection, then closes it (what an idle timeout does).
  RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply("{}"), true}; });
  auto client = make_client(local_url(server));
  REQUIRE(client->request("GET", "/a").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the close reach the client's socket
  auto second = client->request("GET", "/b");
  REQUIRE(second.ok());
  CHECK(second->status == 200);
  CHECK(server.connections() == 2);
  auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].target == "/b");
}

TEST_CASE("client opens a new connection after Connection: close", "[http-client]") {
  RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply("{}", "Connection: close\r\n"), true}; });
  auto client = make_client(local_url(server));
  REQUIRE(client->request("GET", "/a").ok());
  REQUIRE(client->request("GET", "/b").ok());
  CHECK(server.connections() == 2);
}

TEST_CASE("client times out a request the server does not answer", "[http-client]") {
  RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply("{}"), false, std::chrono::seconds(3)}; });
  auto client = make_client(local_url(server), std::chrono::milliseconds(200));
  const auto start = std::chrono::steady_clock::now();
  auto res = client->request("GET", "/slow");
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(res.error().message, Catch::Contains("timed out after 200 ms"));
  CHECK(took < std::chrono::seconds(2));
}

TEST_CASE("client reports connection refused with the server's URL", "[http-client]") {
  // A port that was just free: bind an ephemeral one and close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);

  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto client = make_client(url);
  auto res = client->request("GET", "/version");
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().code == ErrorCode::kUnavailable);
  CHECK(res.error().message == "cannot reach " + url + ": connection refused");
}

TEST_CASE("client enforces the response size limit", "[http-client]") {
  RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply(std::string(4096, 'x'))}; });
  ClientOptions options;
  options.base_url = local_url(server);
  options.max_response_bytes = 1024;
  auto client = Client::create(options);
  REQUIRE(client.ok());
  auto res = client.value()->request("GET", "/big");
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().code == ErrorCode::kTooLarge);
}

TEST_CASE("client rejects malformed base URLs and request targets", "[http-client]") {
  for (const char* url :
       {"", "127.0.0.1:8080", "ftp://host", "http://", "http://h/path", "http://u:p@h", "http://h:0", "http://h?q=1"}) {
    ClientOptions options;
    options.base_url = url;
    auto client = Client::create(options);
    INFO(url);
    REQUIRE_FALSE(client.ok());
    CHECK(client.error().code == ErrorCode::kInvalid);
  }
  ClientOptions options;
  options.base_url = "http://127.0.0.1:1/";
  auto client = Client::create(options);
  REQUIRE(client.ok());
  CHECK(client.value()->request("GET", "no-slash").error().code == ErrorCode::kInvalid);
  CHECK(client.value()->request("GET", "/x\r\nEvil: 1").error().code == ErrorCode::kInvalid);
  CHECK(client.value()->request("GET", "/x", {{"X-A", "b\r\nEvil: 1"}}).error().code == ErrorCode::kInvalid);
}

TEST_CASE("client refuses plain http:// to a non-loopback host unless allowed", "[http-client]") {
  for (const char* url : {"http://fleet.example:8080", "http://10.0.0.5", "http://[2001:db8::1]:80"}) {
    ClientOptions options;
    options.base_url = url;
    auto refused = Client::create(options);
    INFO(url);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::kInvalid);
    CHECK_THAT(refused.error().message, Catch::Contains("unencrypted") && Catch::Contains("--insecure-http"));
    options.allow_plain_http = true;
    CHECK(Client::create(options).ok());
  }
  for (const char* url : {"http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:1", "http://LOCALHOST",
                          "http://[::1]:8080", "https://fleet.example:8443"}) {
    ClientOptions options;
    options.base_url = url;
    INFO(url);
    CHECK(Client::create(options).ok());
  }
}

TEST_CASE("client verifies HTTPS servers against the CA file", "[http-client]") {
  TempFile ca(kCaPem);
  TempFile other_ca(kOtherCaPem);

  SECTION("the right CA: verified, by IP address and by name") {
    RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply(R"({"tls":true})")}; }, kServerCertPem,
                           kServerKeyPem);
    for (const char* host : {"127.0.0.1", "localhost"}) {
      INFO(host);
      auto client = make_client(local_url(server, "https", host), std::chrono::seconds(5), ca.path());
      auto res = client->request("GET", "/version");
      REQUIRE(res.ok());
      CHECK(res->body == R"({"tls":true})");
      REQUIRE(client->request("GET", "/again").ok());  // kept alive over TLS
    }
    CHECK(server.connections() == 2);
  }
  SECTION("another CA: refused, and the message says why") {
    RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply("{}")}; }, kServerCertPem, kServerKeyPem);
    auto client = make_client(local_url(server, "https"), std::chrono::seconds(5), other_ca.path());
    auto res = client->request("GET", "/version");
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code == ErrorCode::kUnavailable);
    CHECK_THAT(res.error().message, Catch::Contains("certificate verification failed"));
    CHECK(server.requests().empty());
  }
  SECTION("a certificate for another host name: refused as a mismatch") {
    RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply("{}")}; }, kWrongHostCertPem,
                           kWrongHostKeyPem);
    auto client = make_client(local_url(server, "https", "localhost"), std::chrono::seconds(5), ca.path());
    auto res = client->request("GET", "/version");
    REQUIRE_FALSE(res.ok());
    CHECK_THAT(res.error().message, Catch::Contains("does not match the host name \"localhost\""));
    CHECK(server.requests().empty());
  }
  SECTION("a CA file that does not exist: an error at creation") {
    ClientOptions options;
    options.base_url = "https://127.0.0.1:1";
    options.ca_file = "/nonexistent/ca.pem";
    auto client = Client::create(options);
    REQUIRE_FALSE(client.ok());
    CHECK_THAT(client.error().message, Catch::Contains("/nonexistent/ca.pem"));
  }
}

TEST_CASE("client trusts CA certificates given as PEM in memory", "[http-client]") {
  RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply("{}")}; }, kServerCertPem, kServerKeyPem);
  ClientOptions options;
  options.base_url = local_url(server, "https");
  options.ca_pem = kCaPem;
  {
    auto client = Client::create(options);
    REQUIRE(client.ok());
    CHECK((*client)->request("GET", "/").ok());
  }  // the test server serves one connection at a time: this one must close first

  options.ca_pem = kOtherCaPem;
  auto other = Client::create(options);
  REQUIRE(other.ok());
  auto res = (*other)->request("GET", "/");
  REQUIRE_FALSE(res.ok());
  CHECK_THAT(res.error().message, Catch::Contains("certificate verification failed"));

  options.ca_pem = "not a certificate";
  CHECK_FALSE(Client::create(options).ok());
}

TEST_CASE("client presents a client certificate from PEM or from files", "[http-client]") {
  TempFile ca(kCaPem);
  TempFile cert(kServerCertPem);  // any certificate with its key will do as the client's
  TempFile key(kServerKeyPem);
  RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply("{}")}; }, kServerCertPem, kServerKeyPem);
  server.require_client_certificate();
  ClientOptions options;
  options.base_url = local_url(server, "https");
  options.ca_file = ca.path();

  SECTION("none: the server refuses the handshake") {
    auto client = Client::create(options);
    REQUIRE(client.ok());
    CHECK_FALSE((*client)->request("GET", "/").ok());
  }
  SECTION("from PEM") {
    options.client_cert_pem = kServerCertPem;
    options.client_key_pem = kServerKeyPem;
    auto client = Client::create(options);
    REQUIRE(client.ok());
    REQUIRE((*client)->request("GET", "/").ok());
    CHECK(server.client_cn() == "server");
  }
  SECTION("from files") {
    options.client_cert_file = cert.path();
    options.client_key_file = key.path();
    auto client = Client::create(options);
    REQUIRE(client.ok());
    REQUIRE((*client)->request("GET", "/").ok());
    CHECK(server.client_cn() == "server");
  }
  SECTION("a certificate without its key, or with another key: an error at creation") {
    options.client_cert_pem = kServerCertPem;
    auto alone = Client::create(options);
    REQUIRE_FALSE(alone.ok());
    CHECK_THAT(alone.error().message, Catch::Contains("both the certificate and its private key"));
    options.client_key_pem = kWrongHostKeyPem;
    auto mismatch = Client::create(options);
    REQUIRE_FALSE(mismatch.ok());
    CHECK_THAT(mismatch.error().message, Catch::Contains("private key"));
  }
}

TEST_CASE("client streams a response body to a callback", "[http-client]") {
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      "6\r\nline1\n\r\n6\r\nline2\n\r\n0\r\n\r\n";
  RawSocketServer server([&](const SeenRequest& req) {
    if (req.target == "/missing") {
      return Reply{"HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"code\":410}"};
    }
    return Reply{chunked};
  });
  auto client = make_client(local_url(server));
  std::string seen;
  auto res = client->stream(
      "GET", "/watch", {}, {},
      [&](std::string_view data) {
        seen.append(data);
        return true;
      },
      std::chrono::seconds(5));
  REQUIRE(res.ok());
  CHECK(res->status == 200);
  CHECK(res->body.empty());
  CHECK(seen == "line1\nline2\n");

  // Another status comes back whole, not through the callback.
  seen.clear();
  res = client->stream(
      "GET", "/missing", {}, {},
      [&](std::string_view data) {
        seen.append(data);
        return true;
      },
      std::chrono::seconds(5));
  REQUIRE(res.ok());
  CHECK(res->status == 410);
  CHECK(res->body == R"({"code":410})");
  CHECK(seen.empty());
  CHECK(server.connections() == 1);  // kept alive across both

  // Stopping early closes the connection; the next call opens a new one.
  res = client->stream(
      "GET", "/watch", {}, {}, [](std::string_view) { return false; }, std::chrono::seconds(5));
  REQUIRE(res.ok());
  auto after = client->request("GET", "/after");
  INFO((after.ok() ? std::string() : after.error().message));
  REQUIRE(after.ok());
  CHECK(server.connections() == 2);
}

TEST_CASE("client cancel() ends a blocked call at once, and every later one", "[http-client]") {
  RawSocketServer server([](const SeenRequest&) {
    return Reply{ok_reply("{}"), false, std::chrono::milliseconds(3000)};
  });
  auto client = make_client(local_url(server), std::chrono::seconds(10));
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    client->cancel();
  });
  const auto began = std::chrono::steady_clock::now();
  auto res = client->stream(
      "GET", "/watch", {}, {}, [](std::string_view) { return true; }, std::chrono::seconds(10));
  canceller.join();
  CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(2));
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().code == ErrorCode::kUnavailable);
  CHECK_THAT(res.error().message, Catch::Contains("cancelled"));
  auto later = client->request("GET", "/later");
  REQUIRE_FALSE(later.ok());
  CHECK_THAT(later.error().message, Catch::Contains("cancelled"));
}

TEST_CASE("client send() leaves the answer to await_response(), which gives nothing until it has come",
          "[http-client]") {
  RawSocketServer server([](const SeenRequest& r) {
    return Reply{ok_reply("{\"to\":\"" + r.target + "\"}"), false, std::chrono::milliseconds(400)};
  });
  auto client = make_client(local_url(server), std::chrono::seconds(5));
  REQUIRE_FALSE(client->awaiting());
  REQUIRE(client->send("GET", "/held").ok());
  CHECK(client->awaiting());
  // Not yet: each wait ends at its own time, and the request stays out.
  const auto began = std::chrono::steady_clock::now();
  CHECK_FALSE(client->await_response(began + std::chrono::milliseconds(50)).has_value());
  CHECK_FALSE(client->await_response(std::chrono::steady_clock::now() + std::chrono::milliseconds(50)).has_value());
  CHECK(client->awaiting());
  auto answer = client->await_response(std::chrono::steady_clock::now() + std::chrono::seconds(3));
  REQUIRE(answer.has_value());
  REQUIRE(answer->ok());
  CHECK((*answer)->body == R"({"to":"/held"})");
  CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(2));
  CHECK_FALSE(client->awaiting());
  // The connection is kept for the next call, sent or not.
  REQUIRE(client->request("GET", "/next").ok());
  CHECK(server.connections() == 1);
  auto again = client->await_response(std::chrono::steady_clock::now());
  REQUIRE(again.has_value());
  REQUIRE_FALSE(again->ok());
  CHECK(again->error().code == ErrorCode::kInvalid);
}

TEST_CASE("client send() times out at its own timeout, however often it is awaited", "[http-client]") {
  RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply("{}"), false, std::chrono::seconds(3)}; });
  auto client = make_client(local_url(server), std::chrono::milliseconds(300));
  REQUIRE(client->send("GET", "/slow").ok());
  const auto began = std::chrono::steady_clock::now();
  std::optional<Result<ClientResponse>> answer;
  while (!answer) answer = client->await_response(std::chrono::steady_clock::now() + std::chrono::milliseconds(40));
  REQUIRE_FALSE(answer->ok());
  CHECK_THAT(answer->error().message, Catch::Contains("timed out after 300 ms"));
  CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(2));
  CHECK_FALSE(client->awaiting());
}

TEST_CASE("client send() on a kept-alive connection the server closed goes again on a fresh one", "[http-client]") {
  RawSocketServer server([](const SeenRequest&) { return Reply{ok_reply("{}"), true}; });
  auto client = make_client(local_url(server));
  REQUIRE(client->request("GET", "/a").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the close reach the client's socket
  REQUIRE(client->send("GET", "/b").ok());
  auto answer = client->await_response(std::chrono::steady_clock::now() + std::chrono::seconds(3));
  REQUIRE(answer.has_value());
  REQUIRE(answer->ok());
  CHECK(server.connections() == 2);
  auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].target == "/b");
}

TEST_CASE("client abandon() and a new call give up a request still out", "[http-client]") {
  RawSocketServer server([](const SeenRequest& r) {
    return Reply{ok_reply("{\"to\":\"" + r.target + "\"}"), false,
                 r.target == "/slow" ? std::chrono::milliseconds(300) : std::chrono::milliseconds(0)};
  });
  auto client = make_client(local_url(server), std::chrono::seconds(5));
  REQUIRE(client->send("GET", "/slow").ok());
  client->abandon();
  CHECK_FALSE(client->awaiting());
  REQUIRE(client->send("GET", "/slow").ok());
  // The late answer to /slow must not be taken for /fast's: /fast goes on a new connection.
  auto fast = client->request("GET", "/fast");
  REQUIRE(fast.ok());
  CHECK(fast->body == R"({"to":"/fast"})");
  CHECK_FALSE(client->awaiting());
  CHECK(server.connections() == 3);
}

}  // namespace fleet::http
