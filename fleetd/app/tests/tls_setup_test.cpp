// --tls auto's certificates on disk (real OpenSSL, a temporary directory) and the plain-HTTP policy.
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fleetd/app/tls_setup.hpp"

using namespace fleet;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ =
        fs::temp_directory_path() / ("fleetd_tls_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

X509* read_cert(const fs::path& p) {
  FILE* f = std::fopen(p.c_str(), "r");
  REQUIRE(f);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  REQUIRE(cert);
  return cert;
}

// X509_verify_cert of the server certificate against the CA alone, checking `name` as a TLS client would.
int verify(const fs::path& ca_file, const fs::path& cert_file, const std::string& name, bool ip) {
  X509_STORE* store = X509_STORE_new();
  X509* ca = read_cert(ca_file);
  X509_STORE_add_cert(store, ca);
  X509* cert = read_cert(cert_file);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  }
  int rc = X509_verify_cert(ctx);
  int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_free(cert);
  X509_free(ca);
  X509_STORE_free(store);
  return rc == 1 ? X509_V_OK : (err == X509_V_OK ? -1 : err);
}

TlsSettings settings(std::string mode, std::string cert = "", std::string key = "", std::string ca = "") {
  TlsSettings s;
  s.mode = std::move(mode);
  s.cert_file = std::move(cert);
  s.key_file = std::move(key);
  s.ca_file = std::move(ca);
  return s;
}

}  // namespace

TEST_CASE("loopback classification: 127/8, ::1 and localhost only — wildcards are not loopback", "[fleetd][tls]") {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"}) {
    INFO(h);
    CHECK(is_loopback_host(h));
  }
  for (const char* h :
       {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "fleet.example.com", "localhost.example", "", "::2", "192.168.1.1"}) {
    INFO(h);
    CHECK_FALSE(is_loopback_host(h));
  }
}

TEST_CASE("tls mode: off on loopback, auto elsewhere, plain HTTP refused off loopback", "[fleetd][tls]") {
  CHECK(*choose_tls_mode(settings(""), "127.0.0.1") == TlsMode::kOff);
  CHECK(*choose_tls_mode(settings(""), "0.0.0.0") == TlsMode::kAuto);
  CHECK(*choose_tls_mode(settings(""), "::") == TlsMode::kAuto);
  CHECK(*choose_tls_mode(settings("auto"), "127.0.0.1") == TlsMode::kAuto);
  CHECK(*choose_tls_mode(settings("off"), "localhost") == TlsMode::kOff);
  CHECK(*choose_tls_mode(settings("", "c.pem", "k.pem"), "0.0.0.0") == TlsMode::kFiles);

  auto refused = choose_tls_mode(settings("off"), "0.0.0.0");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalid);
  CHECK_THAT(refused.error().message, Catch::Contains("refusing to serve plain HTTP on 0.0.0.0"));
  CHECK_THAT(refused.error().message, Catch::Contains("--tls-cert"));

  CHECK_FALSE(choose_tls_mode(settings("maybe"), "127.0.0.1"));
  CHECK_FALSE(choose_tls_mode(settings("", "c.pem", ""), "127.0.0.1"));          // cert without key
  CHECK_FALSE(choose_tls_mode(settings("off", "c.pem", "k.pem"), "127.0.0.1"));  // contradictory
  CHECK_FALSE(choose_tls_mode(settings("", "", "", "ca.pem"), "127.0.0.1"));     // --tls-ca alone
}

TEST_CASE("server names: fixed loopback names, the listen host, extras as lists, no wildcards", "[fleetd][tls]") {
  auto names = server_names("10.1.2.3", {"fleet.example.com,  api.example.com", "10.9.9.9", "localhost"});
  REQUIRE(names);
  CHECK(names->at(0) == "localhost");
  CHECK(names->at(1) == "127.0.0.1");
  CHECK(names->at(2) == "::1");
  CHECK(std::count(names->begin(), names->end(), "10.1.2.3") == 1);
  CHECK(std::count(names->begin(), names->end(), "fleet.example.com") == 1);
  CHECK(std::count(names->begin(), names->end(), "api.example.com") == 1);
  CHECK(std::count(names->begin(), names->end(), "10.9.9.9") == 1);
  CHECK(std::count(names->begin(), names->end(), "localhost") == 1);

  auto wildcard = server_names("0.0.0.0", {});
  REQUIRE(wildcard);
  CHECK(std::count(wildcard->begin(), wildcard->end(), "0.0.0.0") == 0);

  auto bad = server_names("127.0.0.1", {"not a name"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kInvalid);
}

TEST_CASE("auto TLS creates a CA and a server certificate, 0600 in a 0700 directory, and reuses them",
          "[fleetd][tls]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "tls";
  auto names = server_names("127.0.0.1", {"fleet.example.com", "10.20.30.40"});
  REQUIRE(names);

  auto first = ensure_auto_tls(dir, *names);
  REQUIRE(first);
  CHECK(first->created_ca);
  CHECK(first->created_server);
  CHECK(mode_of(dir) == 0700);
  for (const auto& p : {first->ca_cert, first->ca_key, first->server_cert, first->server_key}) {
    INFO(p.string());
    CHECK(mode_of(p) == 0600);
  }

  // The chain verifies, for each name and address in the certificate, and for nothing else.
  CHECK(verify(first->ca_cert, first->server_cert, "localhost", false) == X509_V_OK);
  CHECK(verify(first->ca_cert, first->server_cert, "fleet.example.com", false) == X509_V_OK);
  CHECK(verify(first->ca_cert, first->server_cert, "127.0.0.1", true) == X509_V_OK);
  CHECK(verify(first->ca_cert, first->server_cert, "::1", true) == X509_V_OK);
  CHECK(verify(first->ca_cert, first->server_cert, "10.20.30.40", true) == X509_V_OK);
  CHECK(verify(first->ca_cert, first->server_cert, "other.example.com", false) == X509_V_ERR_HOSTNAME_MISMATCH);
  CHECK(verify(first->ca_cert, first->server_cert, "10.20.30.41", true) == X509_V_ERR_IP_ADDRESS_MISMATCH);

  // ECDSA P-256 keys.
  X509* ca = read_cert(first->ca_cert);
  EVP_PKEY* ca_key = X509_get0_pubkey(ca);
  CHECK(EVP_PKEY_get_base_id(ca_key) == EVP_PKEY_EC);
  CHECK(EVP_PKEY_get_bits(ca_key) == 256);
  X509_free(ca);

  const std::string ca_bytes = slurp(first->ca_cert), server_bytes = slurp(first->server_cert);
  auto second = ensure_auto_tls(dir, *names);
  REQUIRE(second);
  CHECK_FALSE(second->created_ca);
  CHECK_FALSE(second->created_server);
  CHECK(slurp(second->ca_cert) == ca_bytes);
  CHECK(slurp(second->server_cert) == server_bytes);

  SECTION("a new listen name reissues the server certificate under the same CA") {
    auto more = server_names("127.0.0.1", {"fleet.example.com", "10.20.30.40", "new.example.com"});
    REQUIRE(more);
    auto third = ensure_auto_tls(dir, *more);
    REQUIRE(third);
    CHECK_FALSE(third->created_ca);
    CHECK(third->created_server);
    CHECK(slurp(third->ca_cert) == ca_bytes);
    CHECK(verify(third->ca_cert, third->server_cert, "new.example.com", false) == X509_V_OK);
  }
  SECTION("a missing server certificate is reissued") {
    fs::remove(first->server_cert);
    auto third = ensure_auto_tls(dir, *names);
    REQUIRE(third);
    CHECK(third->created_server);
    CHECK(slurp(third->ca_cert) == ca_bytes);
    CHECK(verify(third->ca_cert, third->server_cert, "localhost", false) == X509_V_OK);
  }
  SECTION("a CA certificate without its key is an error, never a silent new CA") {
    fs::remove(first->ca_key);
    auto third = ensure_auto_tls(dir, *names);
    REQUIRE_FALSE(third);
    CHECK_THAT(third.error().message, Catch::Contains("ca.key is missing"));
    CHECK(slurp(first->ca_cert) == ca_bytes);
  }
  SECTION("a directory with loose permissions is tightened") {
    ::chmod(dir.c_str(), 0755);
    REQUIRE(ensure_auto_tls(dir, *names));
    CHECK(mode_of(dir) == 0700);
  }
}

TEST_CASE("prepare_tls: files mode passes the paths through, off needs nothing, auto uses <data-dir>/tls",
          "[fleetd][tls]") {
  TempDir tmp;
  auto off = prepare_tls(settings(""), "127.0.0.1", tmp.path());
  REQUIRE(off);
  CHECK(off->mode == TlsMode::kOff);
  CHECK(off->cert_file.empty());
  CHECK_FALSE(fs::exists(tmp.path() / "tls"));

  auto files = prepare_tls(settings("", "/etc/fleet/tls.crt", "/etc/fleet/tls.key"), "0.0.0.0", tmp.path());
  REQUIRE(files);
  CHECK(files->mode == TlsMode::kFiles);
  CHECK(files->cert_file == "/etc/fleet/tls.crt");
  CHECK(files->client_ca_file.empty());

  auto automatic = prepare_tls(settings(""), "0.0.0.0", tmp.path());
  REQUIRE(automatic);
  CHECK(automatic->mode == TlsMode::kAuto);
  CHECK(automatic->created_ca);
  CHECK(automatic->client_ca_file == (fs::absolute(tmp.path()) / "tls" / "ca.crt").string());
  CHECK(fs::exists(automatic->cert_file));

  CHECK(local_dial_address("0.0.0.0:8443") == "127.0.0.1:8443");
  CHECK(local_dial_address("[::]:8443") == "[::1]:8443");
  CHECK(local_dial_address("10.0.0.1:8443") == "10.0.0.1:8443");
}
