// fleetd's TLS end to end: --tls auto's own CA, clients that trust it and clients that do not, fleetctl's exit
// codes, reuse of the CA across restarts, and the refusal of plain HTTP off loopback.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "integration-tests/fleetd_process.hpp"

using namespace fleet;
using namespace fleet::itest;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

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

// A self-signed CA that has nothing to do with fleetd's: what a client holding the wrong file trusts.
void write_unrelated_ca(const fs::path& path) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  REQUIRE(key);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("unrelated CA"), -1, -1,
                             0);
  X509_set_issuer_name(cert, name);
  REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f);
  PEM_write_X509(f, cert);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

std::unique_ptr<http::Client> client(const std::string& url, const std::string& ca_file) {
  http::ClientOptions o;
  o.base_url = url;
  o.ca_file = ca_file;
  o.timeout = std::chrono::milliseconds(10000);
  auto c = http::Client::create(o);
  REQUIRE(c);
  return std::move(*c);
}

FleetdOptions tls_auto_options(const fs::path& data, std::string listen = "127.0.0.1:0",
                               std::vector<std::string> extra = {"--tls", "auto"}) {
  FleetdOptions o(data, {}, std::move(extra));
  o.listen = std::move(listen);
  o.ca_file = (data / "tls" / "ca.crt").string();
  return o;
}

}  // namespace

TEST_CASE("fleetd --tls auto serves HTTPS that only its own CA verifies", "[integration][tls]") {
  TempDir dir;
  const fs::path data = dir.path() / "data";
  const fs::path ca = data / "tls" / "ca.crt";
  FleetdProcess fleetd(tls_auto_options(data));
  REQUIRE(fleetd.base_url().rfind("https://127.0.0.1:", 0) == 0);

  // The client of the fixture trusts the printed CA: health and an authenticated call.
  CHECK(fleetd.call("GET", "/healthz", "", {}, std::string()).status == 200);
  CHECK(fleetd.call("GET", "/v1/clusters").status == 200);

  // What fleetd told the operator, and the files it keeps.
  const std::string log = slurp(fleetd.log_path());
  CHECK_THAT(log, Catch::Contains("listening on https://127.0.0.1:"));
  CHECK_THAT(log, Catch::Contains("CA certificate: " + ca.string() + " — give it to agents and fleetctl"));
  CHECK(mode_of(data / "tls") == 0700);
  for (const char* f : {"ca.crt", "ca.key", "server.crt", "server.key"}) {
    INFO(f);
    CHECK(mode_of(data / "tls" / f) == 0600);
  }
  const json local = json::parse(slurp(data / "fleetctl.json"));
  CHECK(local["contexts"][0]["server"] == fleetd.base_url());
  CHECK(local["contexts"][0]["caFile"] == ca.string());

  // Another CA: the handshake is refused, and the error says it is about the certificate.
  const fs::path other_ca = dir.path() / "other-ca.crt";
  write_unrelated_ca(other_ca);
  auto refused = client(fleetd.base_url(), other_ca.string())->request("GET", "/healthz");
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("certificate verification failed"));

  // Plain HTTP to the TLS port gets no HTTP answer.
  const std::string address = fleetd.base_url().substr(std::string("https://").size());
  auto plain_answer = client("http://" + address, "")->request("GET", "/healthz");
  CHECK_FALSE(plain_answer);

  // fleetctl: the config fleetd wrote works as it is; --ca-file with the wrong CA exits 6 naming the problem.
  const std::string config = (data / "fleetctl.json").string();
  auto ok = run_command({fleetctl_binary(), "--config", config, "get", "clusters"});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  auto with_ca = run_command({fleetctl_binary(), "--server", fleetd.base_url(), "--token", fleetd.admin_token(),
                              "--ca-file", ca.string(), "get", "clusters", "-o", "json"});
  INFO(with_ca.err);
  CHECK(with_ca.exit_code == 0);
  auto bad = run_command({fleetctl_binary(), "--config", config, "--ca-file", other_ca.string(), "get", "clusters"});
  CHECK(bad.exit_code == 6);
  CHECK_THAT(bad.err, Catch::Contains("certificate"));
  // A restart reuses the CA (agents keep trusting it) and the server certificate.
  const std::string ca_bytes = slurp(ca), server_bytes = slurp(data / "tls" / "server.crt");
  REQUIRE(fleetd.terminate() == 0);
  fleetd.restart();
  CHECK(slurp(ca) == ca_bytes);
  CHECK(slurp(data / "tls" / "server.crt") == server_bytes);
  CHECK(fleetd.call("GET", "/v1/clusters").status == 200);
}

TEST_CASE("fleetd refuses plain HTTP on a non-loopback address with exit code 2", "[integration][tls]") {
  TempDir dir;
  auto r = run_command(
      {fleetd_binary(), "--listen", "0.0.0.0:0", "--tls", "off", "--data-dir", (dir.path() / "data").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("refusing to serve plain HTTP on 0.0.0.0"));
  CHECK_THAT(r.err, Catch::Contains("loopback"));
  // Refused before anything was created: no database, no certificates.
  CHECK_FALSE(fs::exists(dir.path() / "data" / "pg"));

  auto env = run_command({fleetd_binary(), "--listen", "[::]:0", "--data-dir", (dir.path() / "data").string()},
                         {{"FLEETD_TLS", "off"}});
  CHECK(env.exit_code == 2);
}

TEST_CASE("fleetd on 0.0.0.0 without --tls serves HTTPS with its own CA", "[integration][tls]") {
  TempDir dir;
  const fs::path data = dir.path() / "data";
  FleetdProcess fleetd(tls_auto_options(data, "0.0.0.0:0", {}));
  REQUIRE(fleetd.base_url().rfind("https://127.0.0.1:", 0) == 0);
  CHECK(fleetd.call("GET", "/healthz", "", {}, std::string()).status == 200);
  CHECK(fleetd.call("GET", "/v1/clusters").status == 200);
  const json local = json::parse(slurp(data / "fleetctl.json"));
  CHECK(local["contexts"][0]["server"] == fleetd.base_url());  // dialable, not https://0.0.0.0

  // Reached by an address the certificate does not carry (any 127/8 address reaches a wildcard listener):
  // a host name mismatch, exit 6.
  const std::string address = fleetd.base_url().substr(std::string("https://").size());
  auto mismatch =
      run_command({fleetctl_binary(), "--server", "https://127.0.0.2" + address.substr(address.rfind(':')), "--token",
                   fleetd.admin_token(), "--ca-file", (data / "tls" / "ca.crt").string(), "get", "clusters"});
  CHECK(mismatch.exit_code == 6);
  CHECK_THAT(mismatch.err, Catch::Contains("does not match"));
}
