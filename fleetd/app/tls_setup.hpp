#pragma once
// How fleetd decides whether to serve HTTPS, and the certificates of `--tls auto`: a private CA and a server
// certificate signed by it, kept in <data-dir>/tls/ and reused across starts. Plain functions over paths and
// names returning Results; the HTTP server only ever sees the two PEM paths.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace fleet {

enum class TlsMode {
  kOff,    // plain HTTP: loopback addresses only
  kAuto,   // fleetd's own CA and server certificate under <data-dir>/tls
  kFiles,  // --tls-cert / --tls-key given by the operator
};

struct TlsSettings {
  std::string mode;                     // "auto" | "off" | "" (→ off on loopback, auto elsewhere)
  std::string cert_file;                // --tls-cert
  std::string key_file;                 // --tls-key
  std::string ca_file;                  // --tls-ca: the CA behind cert_file, only for the fleetctl config fleetd writes
  std::vector<std::string> extra_sans;  // --tls-san: more names or addresses for the auto server certificate
};

// 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and "localhost". The wildcard addresses 0.0.0.0 and :: are not
// loopback: they accept connections from anywhere.
bool is_loopback_host(std::string_view host);

// The mode for `settings` on `listen_host`. kInvalid (fleetd exits 2) for contradictory flags and for plain HTTP
// on an address other hosts can reach; the message says what to do instead.
Result<TlsMode> choose_tls_mode(const TlsSettings& settings, std::string_view listen_host);

// The names the auto server certificate must cover: localhost, 127.0.0.1, ::1, this machine's host name, the
// listen host unless it is a wildcard, and `extra` (each entry may be a comma-separated list). Deduplicated, in
// that order. kInvalid for an entry that is neither an IP address nor a DNS name.
Result<std::vector<std::string>> server_names(std::string_view listen_host, const std::vector<std::string>& extra);

struct AutoTlsFiles {
  std::filesystem::path ca_cert;
  std::filesystem::path ca_key;
  std::filesystem::path server_cert;
  std::filesystem::path server_key;
  bool created_ca = false;      // this call made a new CA (first start)
  bool created_server = false;  // this call (re)issued the server certificate
};

// Makes sure `dir` (mode 0700) holds a CA and a server certificate for `names`, every file mode 0600. The CA is
// made only when neither of its files exists: a CA certificate without its key, or one that no longer loads, is
// an error an operator must look at, never silently replaced (agents trust it). The server certificate is
// (re)issued when missing, unreadable, not signed by this CA, not covering every name, or within 30 days of
// expiry. ECDSA P-256 with SHA-256; the CA is valid 10 years, the server certificate 1 year.
Result<AutoTlsFiles> ensure_auto_tls(const std::filesystem::path& dir, const std::vector<std::string>& names);

// What the server and the written fleetctl config need.
struct ServingTls {
  TlsMode mode = TlsMode::kOff;
  std::string cert_file;       // empty when off
  std::string key_file;        // empty when off
  std::string client_ca_file;  // what clients should pass as --ca-file; empty when unknown or off
  bool created_ca = false;
};

// choose_tls_mode, then ensure_auto_tls in <data_dir>/tls for kAuto. kInvalid errors are usage errors.
Result<ServingTls> prepare_tls(const TlsSettings& settings, std::string_view listen_host,
                               const std::filesystem::path& data_dir);

// "0.0.0.0:8443" → "127.0.0.1:8443", "[::]:8443" → "[::1]:8443": an address this machine's own clients can dial
// (and that the auto certificate covers). Other addresses are returned as they are.
std::string local_dial_address(const std::string& bound_address);

}  // namespace fleet
