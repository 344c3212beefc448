// PATCH /v1/clusters/{name} (RFC 7386 merge patch): the body's JSON rules, the patch decoder, and the patch applied
// to a stored cluster, whose result must be a cluster the API can write and read back.
#include "api/cluster_json.hpp"
#include "api/json_body.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

fleet::model::Cluster stored_cluster() {
  fleet::model::Cluster c;
  c.id = "6f1c2a1e-8a51-4d0f-9b1e-1d2c3b4a5f60";
  c.name = "aks-westeurope-1";
  c.provider = "aks";
  c.region = "westeurope";
  c.labels = {{"env", "prod"}, {"team", "ml"}};
  c.taints = {{"gpu", "true", "NoSchedule"}};
  c.update_group = "canary";
  return c;
}

}  // namespace

FLEET_FUZZ_HARNESS(merge_patch) {
  using namespace fleet;
  http::Request request;
  request.headers["content-type"] = "application/merge-patch+json";
  request.body = std::string(data);
  auto body = api::parse_json_body(request, {"application/merge-patch+json", "application/json"});
  if (!body) return;
  auto patch = api::parse_cluster_patch(*body);
  if (!patch) return;
  static const model::Cluster current = stored_cluster();
  auto patched = api::apply_cluster_patch(current, *patch);
  if (!patched) return;
  FUZZ_CHECK(patched->name == current.name && patched->provider == current.provider);
  // RFC 7386 patches are idempotent: a client retrying a PATCH gets the same object.
  auto twice = api::apply_cluster_patch(*patched, *patch);
  FUZZ_CHECK(twice.ok());
  FUZZ_CHECK(twice->labels == patched->labels && twice->taints == patched->taints && twice->region == patched->region &&
             twice->update_group == patched->update_group);
  (void)api::to_json(*patched).dump();  // the response: must not throw on anything the patch let in
}
