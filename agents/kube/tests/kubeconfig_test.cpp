#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "agents/kube/kubeconfig.hpp"

namespace fleet::agent::kube {

namespace {

// base64 of "-----BEGIN CERTIFICATE-----\nCA\n" and friends: the parser only decodes, the client checks PEM.
constexpr const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-cluster
  cluster:
    server: https://prod.example:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCg==
- name: lab-cluster
  cluster:
    server: https://10.0.0.1:443
    certificate-authority: certs/lab-ca.crt
users:
- name: sa-token
  user:
    token: abc.def.ghi
- name: cert-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
- name: file-user
  user:
    client-certificate: /etc/k/client.crt
    client-key: keys/client.key
    tokenFile: token
- name: kubelogin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
contexts:
- name: prod
  context:
    cluster: prod-cluster
    user: sa-token
    namespace: fleet-system
- name: prod-cert
  context:
    cluster: prod-cluster
    user: cert-user
- name: lab
  context:
    cluster: lab-cluster
    user: file-user
- name: aad
  context:
    cluster: prod-cluster
    user: kubelogin
)";

}  // namespace

TEST_CASE("kubeconfig: current-context with a token and inline CA data", "[kube]") {
  auto c = parse_kubeconfig(kKubeconfig, "", "/home/u/.kube");
  REQUIRE(c.ok());
  CHECK(c->server == "https://prod.example:6443");
  CHECK(c->ca_pem == "-----BEGIN CERTIFICATE-----\nCA\n");
  CHECK(c->ca_file.empty());
  CHECK(c->token == "abc.def.ghi");
  CHECK(c->default_namespace == "fleet-system");
  CHECK_THAT(c->source, Catch::Contains("prod"));
}

TEST_CASE("kubeconfig: a named context with a client certificate given inline", "[kube]") {
  auto c = parse_kubeconfig(kKubeconfig, "prod-cert", "/home/u/.kube");
  REQUIRE(c.ok());
  CHECK(c->client_cert_pem == "CERT");
  CHECK(c->client_key_pem == "KEY");
  CHECK(c->token.empty());
  CHECK(c->default_namespace == "default");
}

TEST_CASE("kubeconfig: file references resolve against the kubeconfig's directory", "[kube]") {
  auto c = parse_kubeconfig(kKubeconfig, "lab", "/home/u/.kube");
  REQUIRE(c.ok());
  CHECK(c->server == "https://10.0.0.1:443");
  CHECK(c->ca_file == "/home/u/.kube/certs/lab-ca.crt");
  CHECK(c->client_cert_file == "/etc/k/client.crt");
  CHECK(c->client_key_file == "/home/u/.kube/keys/client.key");
  CHECK(c->token_file == "/home/u/.kube/token");
}

TEST_CASE("kubeconfig: unsupported and broken configurations say what is wrong", "[kube]") {
  auto exec = parse_kubeconfig(kKubeconfig, "aad", "/");
  REQUIRE_FALSE(exec.ok());
  CHECK_THAT(exec.error().message, Catch::Contains("exec plugin"));

  auto missing = parse_kubeconfig(kKubeconfig, "nope", "/");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Catch::Contains("no context named \"nope\""));

  CHECK_FALSE(parse_kubeconfig("clusters: [", "", "/").ok());
  auto insecure = parse_kubeconfig(R"(current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "https://a:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
)",
                                   "", "/");
  REQUIRE_FALSE(insecure.ok());
  CHECK_THAT(insecure.error().message, Catch::Contains("insecure-skip-tls-verify"));
  auto http = parse_kubeconfig(R"(current-context: x
contexts: [{name: x, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "http://a:1"}}]
users: [{name: u, user: {token: t}}]
)",
                               "", "/");
  REQUIRE_FALSE(http.ok());
  CHECK_THAT(http.error().message, Catch::Contains("https://"));
}

TEST_CASE("kubeconfig: base64 decoding", "[kube]") {
  CHECK(base64_decode("aGVsbG8=").value() == "hello");
  CHECK(base64_decode("aGVs\nbG8h").value() == "hello!");
  CHECK(base64_decode("").value().empty());
  CHECK_FALSE(base64_decode("a*b").ok());
  CHECK_FALSE(base64_decode("aGVsbG8=x").ok());
}

TEST_CASE("in-cluster connection from the service account files", "[kube]") {
  const auto dir = std::filesystem::temp_directory_path() / ("fleet_kube_sa_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "sa-token\n";
  std::ofstream(dir / "namespace") << "fleet-system\n";
  auto env = [](const char* name) -> const char* {
    std::string n(name);
    if (n == "KUBERNETES_SERVICE_HOST") return "10.0.0.1";
    if (n == "KUBERNETES_SERVICE_PORT") return "443";
    return nullptr;
  };
  auto c = in_cluster_connection(env, dir);
  REQUIRE(c.ok());
  CHECK(c->server == "https://10.0.0.1:443");
  CHECK(c->token_file == (dir / "token").string());
  CHECK(c->ca_file == (dir / "ca.crt").string());
  CHECK(c->default_namespace == "fleet-system");

  auto v6 = in_cluster_connection(
      [](const char* name) -> const char* {
        return std::string(name) == "KUBERNETES_SERVICE_HOST" ? "fd00::1" : "443";
      },
      dir);
  REQUIRE(v6.ok());
  CHECK(v6->server == "https://[fd00::1]:443");

  auto outside = in_cluster_connection([](const char*) -> const char* { return nullptr; }, dir);
  REQUIRE_FALSE(outside.ok());
  CHECK_THAT(outside.error().message, Catch::Contains("--kubeconfig"));
  std::filesystem::remove_all(dir);
}

}  // namespace fleet::agent::kube
