// What an Applied or Running binding becomes from its agent's reports (issue #15 item 4): the read-back state wins
// over the GPU allocation, and only at the binding's generation or a later one.
#include <catch2/catch.hpp>

#include "fleetd/loops/binding_progress.hpp"

namespace fleet {

namespace {

store::AppliedBinding applied(std::string state = "Applied") {
  store::AppliedBinding a;
  a.binding.seq = 7;
  a.binding.cluster = "aks-east";
  a.binding.state = std::move(state);
  a.binding.generation = 3;
  a.binding.replicas = 2;
  a.binding.nodes = {{"n1", 2}};
  a.gpus_per_replica = 4;
  a.allocated_gpus = {{"n1", 0}};
  return a;
}

store::ReadBackStatus read_back(std::int64_t generation, std::string state, std::string message = "") {
  return {generation, std::move(state), std::move(message)};
}

}  // namespace

TEST_CASE("binding progress: the sim's GPU allocation makes an Applied binding Running", "[placement-loop]") {
  store::AppliedBinding a = applied();
  CHECK_FALSE(binding_progress(a).has_value());
  a.allocated_gpus["n1"] = 8;
  auto p = binding_progress(a);
  REQUIRE(p.has_value());
  CHECK(p->state == "Running");
  CHECK(p->message.empty());
  CHECK(p->event == store::WorkloadEvent{"Running", "aks-east", "every replica runs on its nodes"});
}

TEST_CASE("binding progress: a Ready read-back makes it Running without any GPU in use", "[placement-loop]") {
  store::AppliedBinding a = applied();
  a.read_back = read_back(3, "Ready");
  auto p = binding_progress(a);
  REQUIRE(p.has_value());
  CHECK(p->state == "Running");
  CHECK(p->event ==
        store::WorkloadEvent{"Running", "aks-east", "the cluster reports every object of the workload ready"});
  a.binding.state = "Running";
  CHECK_FALSE(binding_progress(a).has_value());  // nothing to change
}

TEST_CASE("binding progress: Progressing holds an Applied binding even with its GPUs in use", "[placement-loop]") {
  store::AppliedBinding a = applied();
  a.allocated_gpus["n1"] = 8;
  a.read_back = read_back(4, "Progressing", "Deployment serving/llama: 1 of 2 updated replicas available");
  CHECK_FALSE(binding_progress(a).has_value());
}

TEST_CASE("binding progress: a Running binding no longer ready goes back to Applied", "[placement-loop]") {
  store::AppliedBinding a = applied("Running");
  a.read_back = read_back(3, "Progressing", "Deployment serving/llama: 1 of 2 updated replicas available");
  auto p = binding_progress(a);
  REQUIRE(p.has_value());
  CHECK(p->state == "Applied");
  CHECK(p->message == "Deployment serving/llama: 1 of 2 updated replicas available");
  CHECK(p->event.type == "Applied");
  CHECK(p->event.message ==
        "the cluster reports it not ready: Deployment serving/llama: 1 of 2 updated replicas available");
}

TEST_CASE("binding progress: Failed on the cluster fails an Applied or Running binding", "[placement-loop]") {
  for (const char* state : {"Applied", "Running"}) {
    store::AppliedBinding a = applied(state);
    a.read_back =
        read_back(3, "Failed", "Job train/llama: BackoffLimitExceeded: Job has reached the specified backoff limit");
    auto p = binding_progress(a);
    REQUIRE(p.has_value());
    CHECK(p->state == "Failed");
    CHECK(p->message ==
          "the cluster reports the workload failed: Job train/llama: BackoffLimitExceeded: Job has "
          "reached the specified backoff limit");
    CHECK(p->event == store::WorkloadEvent{"Failed", "aks-east", p->message});
  }
}

TEST_CASE("binding progress: a read-back of an older generation is not the binding's", "[placement-loop]") {
  store::AppliedBinding a = applied();
  a.read_back = read_back(2, "Ready");
  CHECK_FALSE(binding_progress(a).has_value());  // the old objects were ready; the new ones are not known yet
  a.allocated_gpus["n1"] = 8;
  CHECK(binding_progress(a)->state == "Running");  // the allocation rule still applies
}

}  // namespace fleet
