#include "fleetd/app/tls_setup.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include "fleetd/app/private_file.hpp"

namespace fleet {
namespace {

namespace fs = std::filesystem;

constexpr long kCaDays = 3650;
constexpr long kServerDays = 365;
constexpr long kRenewBeforeDays = 30;
// notBefore a little in the past: a client whose clock lags by a few minutes still accepts a fresh certificate.
constexpr long kBackdateSeconds = 300;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Bio = std::unique_ptr<BIO, BioFree>;

// OpenSSL keeps its reasons on a thread-local queue; the last one is the most specific.
std::string openssl_reason() {
  unsigned long code = 0, last = 0;
  while ((code = ERR_get_error()) != 0) last = code;
  if (last == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

Error crypto_error(const std::string& what) {
  return make_error(ErrorCode::kInternal, what + ": " + openssl_reason());
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_ip(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// RFC 1123 host names, plus one leading "*." label for a wildcard certificate.
bool is_dns_name(std::string_view name) {
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0 || name[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
    if (c == '-' && label == 0) return false;
    if (++label > 63) return false;
  }
  return label > 0 && name.back() != '-';
}

bool is_wildcard_address(std::string_view host) {
  return host == "0.0.0.0" || host == "::" || host == "0:0:0:0:0:0:0:0";
}

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kInternal, "cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Cert> load_cert(const fs::path& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  Bio bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return crypto_error(path.string() + " does not hold a PEM certificate");
  return cert;
}

Result<Pkey> load_key(const fs::path& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  Bio bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return crypto_error(path.string() + " does not hold a PEM private key");
  return key;
}

Result<std::string> pem_of(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) return crypto_error("cannot encode a certificate");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Result<std::string> pem_of(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return crypto_error("cannot encode a private key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Result<Pkey> new_p256_key() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return crypto_error("cannot generate an ECDSA P-256 key");
  return key;
}

Status add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || !X509_add_ext(cert, ext.get(), -1)) {
    return crypto_error(std::string("cannot add the ") + OBJ_nid2sn(nid) + " extension");
  }
  return Ok{};
}

// A certificate for `key`, issued by `issuer` (nullptr → self-signed) with `issuer_key`.
Result<Cert> make_cert(EVP_PKEY* key, const std::string& common_name, long days, X509* issuer, EVP_PKEY* issuer_key,
                       const std::vector<std::pair<int, std::string>>& extensions) {
  Cert cert(X509_new());
  if (!cert) return crypto_error("cannot allocate a certificate");
  // 127 random bits: unique serials without state (RFC 5280 allows up to 20 octets; positive).
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return crypto_error("cannot draw a serial number");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  const bool serial_ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  if (!serial_ok) return crypto_error("cannot set the serial number");

  X509_NAME* name = X509_NAME_new();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("fleetd"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  const bool names_ok = X509_set_subject_name(cert.get(), name) &&
                        X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_NAME_free(name);
  if (!names_ok || !X509_set_version(cert.get(), 2) || !X509_set_pubkey(cert.get(), key) ||
      !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(days), 0, nullptr)) {
    return crypto_error("cannot fill in the certificate");
  }
  X509* issuer_cert = issuer ? issuer : cert.get();
  for (const auto& [nid, value] : extensions) {
    if (auto s = add_ext(cert.get(), issuer_cert, nid, value); !s) return s.error();
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) return crypto_error("cannot sign the certificate");
  return cert;
}

bool covers(X509* cert, const std::string& name) {
  if (is_ip(name)) return X509_check_ip_asc(cert, name.c_str(), 0) == 1;
  return X509_check_host(cert, name.c_str(), name.size(), 0, nullptr) == 1;
}

bool expires_within(X509* cert, long days) {
  std::time_t limit = std::time(nullptr) + days * 86400;
  return X509_cmp_time(X509_get0_notAfter(cert), &limit) < 0;
}

std::string san_value(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ",";
    out += (is_ip(n) ? "IP:" : "DNS:") + n;
  }
  return out;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

struct Ca {
  Cert cert;
  Pkey key;
};

Result<Ca> load_or_create_ca(const fs::path& cert_path, const fs::path& key_path, bool& created) {
  const bool have_cert = fs::exists(cert_path), have_key = fs::exists(key_path);
  if (have_cert != have_key) {
    return make_error(ErrorCode::kInternal,
                      (have_cert ? key_path : cert_path).string() + " is missing while " +
                          (have_cert ? cert_path : key_path).string() +
                          " exists; fleetd will not replace a CA that agents may trust. Restore the file, or "
                          "remove both to create a new CA (then give every agent and fleetctl the new ca.crt)");
  }
  if (have_cert) {
    auto cert = load_cert(cert_path);
    if (!cert) return cert.error();
    auto key = load_key(key_path);
    if (!key) return key.error();
    if (X509_check_private_key(cert->get(), key->get()) != 1) {
      ERR_clear_error();
      return make_error(ErrorCode::kInternal, key_path.string() + " is not the key of " + cert_path.string());
    }
    if (expires_within(cert->get(), 0)) {
      return make_error(ErrorCode::kInternal,
                        "the CA certificate " + cert_path.string() +
                            " has expired; remove ca.crt and ca.key to create a new CA, then distribute it");
    }
    return Ca{std::move(*cert), std::move(*key)};
  }
  auto key = new_p256_key();
  if (!key) return key.error();
  const std::string cn = "fleetd CA " + (host_name().empty() ? std::string("(unknown host)") : host_name());
  auto cert = make_cert(key->get(), cn, kCaDays, nullptr, key->get(),
                        {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                         {NID_key_usage, "critical,keyCertSign,cRLSign"},
                         {NID_subject_key_identifier, "hash"}});
  if (!cert) return cert.error();
  auto key_pem = pem_of(key->get());
  if (!key_pem) return key_pem.error();
  auto cert_pem = pem_of(cert->get());
  if (!cert_pem) return cert_pem.error();
  // The key first: a crash in between leaves a key without a certificate, which the check above reports.
  if (auto s = write_private_file(key_path, *key_pem); !s) return s.error();
  if (auto s = write_private_file(cert_path, *cert_pem); !s) return s.error();
  created = true;
  return Ca{std::move(*cert), std::move(*key)};
}

// The existing server certificate is good when it loads, matches its key, was signed by `ca`, covers every name
// and is not about to expire.
bool server_cert_usable(const fs::path& cert_path, const fs::path& key_path, const Ca& ca,
                        const std::vector<std::string>& names) {
  if (!fs::exists(cert_path) || !fs::exists(key_path)) return false;
  auto cert = load_cert(cert_path);
  auto key = load_key(key_path);
  bool ok = cert && key && X509_check_private_key(cert->get(), key->get()) == 1 &&
            X509_verify(cert->get(), ca.key.get()) == 1 && !expires_within(cert->get(), kRenewBeforeDays) &&
            std::all_of(names.begin(), names.end(), [&](const std::string& n) { return covers(cert->get(), n); });
  ERR_clear_error();
  return ok;
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string h = lower(host);
  if (h == "localhost" || h == "localhost.") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (std::memcmp(v6.s6_addr, kLoopback, 16) == 0) return true;
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(v6.s6_addr, kMapped, 12) == 0 && v6.s6_addr[12] == 127;
  }
  return false;
}

Result<TlsMode> choose_tls_mode(const TlsSettings& s, std::string_view listen_host) {
  auto usage = [](std::string m) { return make_error(ErrorCode::kInvalid, std::move(m)); };
  const std::string mode = lower(s.mode);
  if (!mode.empty() && mode != "auto" && mode != "off") {
    return usage("--tls must be auto or off, not \"" + s.mode +
                 "\" (for your own certificate use --tls-cert and "
                 "--tls-key)");
  }
  if (s.cert_file.empty() != s.key_file.empty()) {
    return usage("--tls-cert and --tls-key go together: give both, or neither");
  }
  if (!s.cert_file.empty()) {
    if (!mode.empty()) {
      return usage("--tls " + mode +
                   " cannot be combined with --tls-cert/--tls-key (the certificate files already "
                   "mean HTTPS)");
    }
    return TlsMode::kFiles;
  }
  if (!s.ca_file.empty()) return usage("--tls-ca describes the CA of --tls-cert; it needs --tls-cert and --tls-key");
  const bool loopback = is_loopback_host(listen_host);
  if (mode == "off" && !loopback) {
    return usage("refusing to serve plain HTTP on " + std::string(listen_host) +
                 ": tokens would cross the network unencrypted. Plain HTTP is allowed only on a loopback address "
                 "(127.0.0.1, ::1, localhost). Drop --tls off to get --tls auto (fleetd's own CA), give --tls-cert "
                 "and --tls-key, or listen on 127.0.0.1 behind a TLS-terminating proxy");
  }
  if (mode == "auto") return TlsMode::kAuto;
  if (mode == "off") return TlsMode::kOff;
  return loopback ? TlsMode::kOff : TlsMode::kAuto;
}

Result<std::vector<std::string>> server_names(std::string_view listen_host, const std::vector<std::string>& extra) {
  std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
  auto add = [&](std::string n) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
  };
  if (auto h = lower(host_name()); !h.empty() && is_dns_name(h)) add(h);
  std::string listen(listen_host);
  if (listen.size() > 2 && listen.front() == '[' && listen.back() == ']') listen = listen.substr(1, listen.size() - 2);
  if (!listen.empty() && !is_wildcard_address(listen)) {
    if (!is_ip(listen) && !is_dns_name(listen)) {
      return make_error(ErrorCode::kInvalid, "the listen host \"" + listen + "\" is neither an IP address nor a name");
    }
    add(is_ip(listen) ? listen : lower(listen));
  }
  for (const auto& entry : extra) {
    std::stringstream parts(entry);
    for (std::string part; std::getline(parts, part, ',');) {
      part.erase(0, part.find_first_not_of(" \t"));
      part.erase(part.find_last_not_of(" \t") + 1);
      if (part.empty()) continue;
      if (!is_ip(part) && !is_dns_name(part)) {
        return make_error(ErrorCode::kInvalid, "--tls-san \"" + part + "\" is neither an IP address nor a DNS name");
      }
      add(is_ip(part) ? part : lower(part));
    }
  }
  return names;
}

Result<AutoTlsFiles> ensure_auto_tls(const fs::path& dir, const std::vector<std::string>& names) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::kInternal, "cannot create " + dir.string() + ": " + ec.message());
  // Tightened on every start: a directory made by hand or restored from a backup may be wider.
  if (::chmod(dir.c_str(), 0700) != 0) {
    return make_error(ErrorCode::kInternal, "cannot set mode 0700 on " + dir.string() + ": " + std::strerror(errno));
  }
  AutoTlsFiles files{dir / "ca.crt", dir / "ca.key", dir / "server.crt", dir / "server.key"};
  auto ca = load_or_create_ca(files.ca_cert, files.ca_key, files.created_ca);
  if (!ca) return ca.error();
  if (!files.created_ca && server_cert_usable(files.server_cert, files.server_key, *ca, names)) {
    for (const auto& p : {files.ca_cert, files.ca_key, files.server_cert, files.server_key}) ::chmod(p.c_str(), 0600);
    return files;
  }
  auto key = new_p256_key();
  if (!key) return key.error();
  auto cert = make_cert(key->get(), "fleetd server", kServerDays, ca->cert.get(), ca->key.get(),
                        {{NID_basic_constraints, "critical,CA:FALSE"},
                         {NID_key_usage, "critical,digitalSignature"},
                         {NID_ext_key_usage, "serverAuth"},
                         {NID_subject_key_identifier, "hash"},
                         {NID_authority_key_identifier, "keyid:always"},
                         {NID_subject_alt_name, san_value(names)}});
  if (!cert) return cert.error();
  auto key_pem = pem_of(key->get());
  if (!key_pem) return key_pem.error();
  auto cert_pem = pem_of(cert->get());
  if (!cert_pem) return cert_pem.error();
  if (auto s = write_private_file(files.server_key, *key_pem); !s) return s.error();
  if (auto s = write_private_file(files.server_cert, *cert_pem); !s) return s.error();
  files.created_server = true;
  return files;
}

Result<ServingTls> prepare_tls(const TlsSettings& settings, std::string_view listen_host, const fs::path& data_dir) {
  auto mode = choose_tls_mode(settings, listen_host);
  if (!mode) return mode.error();
  ServingTls out;
  out.mode = *mode;
  if (*mode == TlsMode::kFiles) {
    out.cert_file = settings.cert_file;
    out.key_file = settings.key_file;
    if (!settings.ca_file.empty()) out.client_ca_file = fs::absolute(settings.ca_file).string();
  } else if (*mode == TlsMode::kAuto) {
    auto names = server_names(listen_host, settings.extra_sans);
    if (!names) return names.error();
    auto files = ensure_auto_tls(fs::absolute(data_dir) / "tls", *names);
    if (!files) return files.error();
    out.cert_file = files->server_cert.string();
    out.key_file = files->server_key.string();
    out.client_ca_file = files->ca_cert.string();
    out.created_ca = files->created_ca;
  }
  return out;
}

std::string local_dial_address(const std::string& bound_address) {
  auto colon = bound_address.rfind(':');
  if (colon == std::string::npos) return bound_address;
  const std::string host = bound_address.substr(0, colon), port = bound_address.substr(colon);
  if (host == "0.0.0.0") return "127.0.0.1" + port;
  if (host == "[::]") return "[::1]" + port;
  return bound_address;
}

}  // namespace fleet
