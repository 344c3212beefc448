#include <catch2/catch.hpp>

#include "agents/kube/manifest_url.hpp"

namespace fleet::agent::kube {

using nlohmann::json;

TEST_CASE("manifest paths: core, apps and batch groups, namespaces and cluster-scoped kinds", "[kube]") {
  auto ref =
      object_ref(json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"llama"}})"), "serving");
  REQUIRE(ref.ok());
  CHECK(ref->path == "/apis/apps/v1/namespaces/serving/deployments/llama");
  CHECK(ref->display() == "Deployment serving/llama");

  ref = object_ref(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"ml"}})"),
                   "default");
  REQUIRE(ref.ok());
  CHECK(ref->path == "/api/v1/namespaces/ml/configmaps/c");

  ref = object_ref(json::parse(R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"}})"), "default");
  CHECK(ref->path == "/apis/batch/v1/namespaces/default/jobs/j");

  ref = object_ref(json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ml"}})"), "default");
  CHECK(ref->path == "/api/v1/namespaces/ml");
  CHECK(ref->namespace_.empty());

  ref = object_ref(json::parse(R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",)"
                               R"("metadata":{"name":"r","namespace":"ignored"}})"),
                   "default");
  CHECK(ref->path == "/apis/rbac.authorization.k8s.io/v1/clusterroles/r");

  ref = object_ref(json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"i"}})"),
                   "default");
  CHECK(ref->path == "/apis/networking.k8s.io/v1/namespaces/default/ingresses/i");
}

TEST_CASE("manifest paths: default plurals and invalid manifests", "[kube]") {
  CHECK(plural_of("Service") == "services");
  CHECK(plural_of("StatefulSet") == "statefulsets");
  CHECK(plural_of("NetworkPolicy") == "networkpolicies");
  CHECK(plural_of("Gateway") == "gateways");
  CHECK(plural_of("Policy") == "policies");
  CHECK(plural_of("Ingress") == "ingresses");
  CHECK(plural_of("Mesh") == "meshes");
  CHECK(plural_of("Endpoints") == "endpoints");

  CHECK_FALSE(object_ref(json::parse(R"({"kind":"Deployment","metadata":{"name":"x"}})"), "default").ok());
  CHECK_FALSE(object_ref(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{}})"), "default").ok());
  CHECK_FALSE(
      object_ref(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"../x"}})"), "default").ok());
  CHECK_FALSE(object_ref(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",)"
                                     R"("metadata":{"name":"x","namespace":"Bad_NS"}})"),
                         "default")
                  .ok());
  CHECK_FALSE(object_ref(json::parse(R"(["not an object"])"), "default").ok());
}

}  // namespace fleet::agent::kube
