#include "agents/kube/kubeconfig.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace fleet::agent::kube {
namespace {

Error kubeconfig_error(const std::string& source, const std::string& why) {
  return make_error(ErrorCode::kInvalid, source + ": " + why);
}

std::string scalar(const YAML::Node& map, const char* key) {
  const YAML::Node n = map[key];
  return n && n.IsScalar() ? n.as<std::string>() : std::string();
}

// The entry of a named list (clusters, users, contexts) whose name is `name`: its inner map.
YAML::Node find_named(const YAML::Node& list, const std::string& name, const char* inner) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const YAML::Node& entry : list) {
    if (entry.IsMap() && scalar(entry, "name") == name) return entry[inner];
  }
  return YAML::Node();
}

std::string resolve(const std::filesystem::path& base_dir, const std::string& file) {
  if (file.empty()) return file;
  std::filesystem::path p(file);
  return p.is_absolute() ? file : (base_dir / p).lexically_normal().string();
}

Result<std::string> read_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kInvalid, "cannot read " + std::string(what) + " \"" + path.string() + "\"");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

Result<KubeConnection> parse(const YAML::Node& root, std::string_view wanted, const std::filesystem::path& base_dir) {
  if (!root.IsMap()) return kubeconfig_error("kubeconfig", "not a YAML mapping");
  std::string context_name = wanted.empty() ? scalar(root, "current-context") : std::string(wanted);
  if (context_name.empty()) return kubeconfig_error("kubeconfig", "no context given and no current-context set");
  KubeConnection c;
  c.source = "kubeconfig context \"" + context_name + "\"";
  const YAML::Node context = find_named(root["contexts"], context_name, "context");
  if (!context || !context.IsMap()) return kubeconfig_error("kubeconfig", "no context named \"" + context_name + "\"");
  const std::string cluster_name = scalar(context, "cluster");
  const std::string user_name = scalar(context, "user");
  if (std::string ns = scalar(context, "namespace"); !ns.empty()) c.default_namespace = ns;

  const YAML::Node cluster = find_named(root["clusters"], cluster_name, "cluster");
  if (!cluster || !cluster.IsMap()) return kubeconfig_error(c.source, "no cluster named \"" + cluster_name + "\"");
  c.server = scalar(cluster, "server");
  if (c.server.empty()) return kubeconfig_error(c.source, "the cluster has no server");
  if (c.server.rfind("https://", 0) != 0) return kubeconfig_error(c.source, "the server must be an https:// URL");
  if (scalar(cluster, "insecure-skip-tls-verify") == "true") {
    return kubeconfig_error(c.source, "insecure-skip-tls-verify is not supported: give the cluster's CA certificate");
  }
  c.ca_file = resolve(base_dir, scalar(cluster, "certificate-authority"));
  if (std::string data = scalar(cluster, "certificate-authority-data"); !data.empty()) {
    auto pem = base64_decode(data);
    if (!pem) return kubeconfig_error(c.source, "certificate-authority-data: " + pem.error().message);
    c.ca_pem = std::move(*pem);
  }

  // A context may name no user (anonymous access); that is unusual but valid.
  if (user_name.empty()) return c;
  const YAML::Node user = find_named(root["users"], user_name, "user");
  if (!user || !user.IsMap()) return kubeconfig_error(c.source, "no user named \"" + user_name + "\"");
  if (user["exec"] || user["auth-provider"]) {
    return kubeconfig_error(c.source,
                            "user \"" + user_name +
                                "\" uses an exec plugin or auth provider, which this agent does not run; use a "
                                "service account token (token or tokenFile) or a client certificate");
  }
  if (!scalar(user, "username").empty() || !scalar(user, "password").empty()) {
    return kubeconfig_error(c.source, "basic authentication (username/password) is not supported");
  }
  c.token = scalar(user, "token");
  c.token_file = resolve(base_dir, scalar(user, "tokenFile"));
  c.client_cert_file = resolve(base_dir, scalar(user, "client-certificate"));
  c.client_key_file = resolve(base_dir, scalar(user, "client-key"));
  for (auto [key, out] :
       {std::pair{"client-certificate-data", &c.client_cert_pem}, std::pair{"client-key-data", &c.client_key_pem}}) {
    if (std::string data = scalar(user, key); !data.empty()) {
      auto pem = base64_decode(data);
      if (!pem) return kubeconfig_error(c.source, std::string(key) + ": " + pem.error().message);
      *out = std::move(*pem);
    }
  }
  const bool cert = !c.client_cert_file.empty() || !c.client_cert_pem.empty();
  const bool key = !c.client_key_file.empty() || !c.client_key_pem.empty();
  if (cert != key)
    return kubeconfig_error(c.source, "user \"" + user_name + "\" has a client certificate without its key");
  return c;
}

}  // namespace

Result<std::string> base64_decode(std::string_view text) {
  auto value = [](char ch) -> int {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char ch : text) {
    if (std::isspace(static_cast<unsigned char>(ch))) continue;
    if (ch == '=') {
      padding = true;
      continue;
    }
    const int v = value(ch);
    if (v < 0 || padding) return make_error(ErrorCode::kInvalid, "invalid base64");
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return make_error(ErrorCode::kInvalid, "invalid base64 length");
  return out;
}

Result<KubeConnection> parse_kubeconfig(std::string_view yaml, std::string_view context,
                                        const std::filesystem::path& base_dir) {
  try {
    return parse(YAML::Load(std::string(yaml)), context, base_dir);
  } catch (const YAML::Exception& e) {
    return kubeconfig_error("kubeconfig", std::string("invalid YAML: ") + e.what());
  }
}

Result<KubeConnection> load_kubeconfig(const std::filesystem::path& path, std::string_view context) {
  auto text = read_file(path, "the kubeconfig");
  if (!text) return text.error();
  auto c = parse_kubeconfig(*text, context, path.parent_path());
  if (!c) return make_error(c.error().code, path.string() + ": " + c.error().message);
  c->source = "kubeconfig " + path.string() + ", " + c->source.substr(std::string_view("kubeconfig ").size());
  return c;
}

Result<KubeConnection> in_cluster_connection(const std::function<const char*(const char*)>& getenv,
                                             const std::filesystem::path& service_account_dir) {
  const char* host = getenv("KUBERNETES_SERVICE_HOST");
  const char* port = getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return make_error(ErrorCode::kInvalid,
                      "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset): give --kubeconfig");
  }
  KubeConnection c;
  const std::string h = host;
  c.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  c.ca_file = (service_account_dir / "ca.crt").string();
  c.token_file = (service_account_dir / "token").string();
  c.source = "in-cluster service account";
  if (!std::filesystem::exists(c.token_file)) {
    return make_error(ErrorCode::kInvalid, "in-cluster: no service account token at " + c.token_file +
                                               " (is automountServiceAccountToken off?)");
  }
  if (auto ns = read_file(service_account_dir / "namespace", "the namespace file"); ns) {
    if (std::string t = trim(*ns); !t.empty()) c.default_namespace = t;
  }
  return c;
}

}  // namespace fleet::agent::kube
