#pragma once
// A throwaway PKI for tests that talk TLS: a CA, a server certificate for 127.0.0.1 and localhost signed by it,
// and a client certificate, made fresh with OpenSSL (EC P-256, valid from an hour ago for a day) and written to
// a temporary directory that the destructor removes. Test support only.
#include <filesystem>
#include <string>

namespace fleet::agent::kube::testing {

class TestPki {
 public:
  // `name` tells CAs apart in messages ("kube test CA", "other CA"); throws std::runtime_error on OpenSSL failure.
  explicit TestPki(const std::string& name = "kube test CA");
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  std::string ca_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
  std::string client_cert_pem;
  std::string client_key_pem;

  std::string ca_file;
  std::string server_cert_file;
  std::string server_key_file;
  std::string client_cert_file;
  std::string client_key_file;
  std::filesystem::path dir;
};

}  // namespace fleet::agent::kube::testing
