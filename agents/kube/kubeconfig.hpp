#pragma once
// Where the API server is and how to authenticate to it: from a kubeconfig file (a context's cluster and user)
// or from the in-cluster service account. Parsing is pure: file references are resolved to paths (relative
// ones against the kubeconfig's directory) and read later by the client; only load_kubeconfig reads the file.
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace fleet::agent::kube {

struct KubeConnection {
  std::string server;  // "https://host:port"
  // Trust: a CA file, or PEM in memory (certificate-authority-data), or neither → the system's trust store.
  std::string ca_file;
  std::string ca_pem;
  // Authentication: a bearer token (inline or a file re-read as it rotates) and/or a client certificate.
  std::string token;
  std::string token_file;
  std::string client_cert_file;
  std::string client_cert_pem;
  std::string client_key_file;
  std::string client_key_pem;
  std::string default_namespace = "default";  // the context's namespace, or the service account's
  std::string source;                         // "kubeconfig /root/.kube/config, context aks-1", for messages
};

// `context` empty → current-context. Unsupported forms are errors that say so: exec plugins and auth providers
// (kubelogin, cloud CLIs: use a service account token or a client certificate instead), username/password, and
// insecure-skip-tls-verify (the backend always verifies the server).
Result<KubeConnection> parse_kubeconfig(std::string_view yaml, std::string_view context,
                                        const std::filesystem::path& base_dir);
Result<KubeConnection> load_kubeconfig(const std::filesystem::path& path, std::string_view context);

inline constexpr std::string_view kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

// The in-cluster service account: KUBERNETES_SERVICE_HOST/PORT, and token, ca.crt and namespace under
// `service_account_dir`. `getenv` is injected for tests.
Result<KubeConnection> in_cluster_connection(const std::function<const char*(const char*)>& getenv,
                                             const std::filesystem::path& service_account_dir = kServiceAccountDir);

// RFC 4648 base64 (kubeconfig *-data fields); whitespace is skipped. nullopt-like error on bad input.
Result<std::string> base64_decode(std::string_view text);

}  // namespace fleet::agent::kube
