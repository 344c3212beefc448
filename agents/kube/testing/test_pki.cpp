#include "agents/kube/testing/test_pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace fleet::agent::kube::testing {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key generation failed");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "bad extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// issuer == nullptr: self-signed.
Cert make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, long serial) {
  Cert cert(X509_new());
  X509* c = cert.get();
  X509_set_version(c, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
  X509_gmtime_adj(X509_getm_notBefore(c), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c), 24 * 3600);
  X509_set_pubkey(c, key);
  X509_NAME* name = X509_get_subject_name(c);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : c;
  if (!issuer) {
    add_ext(c, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(c, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(c, signer, NID_subject_key_identifier, "hash");
  }
  return cert;
}

void sign(X509* cert, EVP_PKEY* key) {
  check(X509_sign(cert, key, EVP_sha256()) > 0, "signing failed");
}

std::string pem_of(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string pem_of(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::string write(const std::filesystem::path& dir, const char* name, const std::string& content) {
  const auto path = dir / name;
  std::ofstream(path) << content;
  return path.string();
}

}  // namespace

TestPki::TestPki(const std::string& name) {
  static std::atomic<int> counter{0};
  dir = std::filesystem::temp_directory_path() /
        ("fleet_kube_pki_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::create_directories(dir);

  Key ca_key = new_key();
  Cert ca = make_cert(ca_key.get(), name, nullptr, 1);
  sign(ca.get(), ca_key.get());

  Key server_key = new_key();
  Cert server = make_cert(server_key.get(), "127.0.0.1", ca.get(), 2);
  add_ext(server.get(), ca.get(), NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  add_ext(server.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_ext(server.get(), ca.get(), NID_authority_key_identifier, "keyid");
  sign(server.get(), ca_key.get());

  Key client_key = new_key();
  Cert client = make_cert(client_key.get(), "fleet-agent", ca.get(), 3);
  add_ext(client.get(), ca.get(), NID_ext_key_usage, "clientAuth");
  sign(client.get(), ca_key.get());

  ca_pem = pem_of(ca.get());
  server_cert_pem = pem_of(server.get());
  server_key_pem = pem_of(server_key.get());
  client_cert_pem = pem_of(client.get());
  client_key_pem = pem_of(client_key.get());
  ca_file = write(dir, "ca.crt", ca_pem);
  server_cert_file = write(dir, "server.crt", server_cert_pem);
  server_key_file = write(dir, "server.key", server_key_pem);
  client_cert_file = write(dir, "client.crt", client_cert_pem);
  client_key_file = write(dir, "client.key", client_key_pem);
}

TestPki::~TestPki() {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace fleet::agent::kube::testing
