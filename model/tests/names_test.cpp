#include <catch2/catch.hpp>

#include <string>

#include "model/names.hpp"

using namespace fleet;
using namespace fleet::model;

TEST_CASE("dns1123 labels", "[api][names]") {
  struct Case {
    std::string value;
    bool ok;
  };
  auto c = GENERATE(values<Case>({
      {"a", true},
      {"aks-westeurope-1", true},
      {"0abc", true},
      {std::string(63, 'a'), true},
      {"", false},
      {std::string(64, 'a'), false},
      {"Abc", false},
      {"a_b", false},
      {"-abc", false},
      {"abc-", false},
      {"a.b", false},
      {"a b", false},
      {"\xc3\xa9t\xc3\xa9", false},
      {"a'; drop table clusters;--", false},
  }));
  CAPTURE(c.value);
  auto s = validate_dns1123_label(c.value, "name");
  CHECK(s.ok() == c.ok);
  if (!s) {
    CHECK(s.error().code == ErrorCode::kInvalid);
    CHECK(s.error().type == "invalid-field");
    CHECK(s.error().field == "name");
    CHECK(s.error().message.rfind("name: ", 0) == 0);
  }
}

TEST_CASE("dns1123 subdomains", "[api][names]") {
  CHECK(validate_dns1123_subdomain("example.com", "f"));
  CHECK(validate_dns1123_subdomain("a.b-c.d0", "f"));
  CHECK_FALSE(validate_dns1123_subdomain("", "f"));
  CHECK_FALSE(validate_dns1123_subdomain("a..b", "f"));
  CHECK_FALSE(validate_dns1123_subdomain(".a", "f"));
  CHECK_FALSE(validate_dns1123_subdomain("a.", "f"));
  CHECK_FALSE(validate_dns1123_subdomain("Example.com", "f"));
  CHECK_FALSE(validate_dns1123_subdomain("a.-b", "f"));
  CHECK_FALSE(validate_dns1123_subdomain(std::string(254, 'a'), "f"));
}

TEST_CASE("label keys", "[api][names]") {
  struct Case {
    std::string key;
    bool ok;
  };
  auto c = GENERATE(values<Case>({
      {"env", true},
      {"Env_1.x-y", true},
      {"app.kubernetes.io/name", true},
      {"example.com/" + std::string(63, 'x'), true},
      {std::string(253, 'a') + "/x", true},
      {"", false},
      {"/env", false},
      {"env/", false},
      {"a/b/c", false},
      {"Example.com/x", false},
      {"example_com/x", false},
      {std::string(254, 'a') + "/x", false},
      {std::string(64, 'a'), false},
      {"_env", false},
      {"env.", false},
      {"en v", false},
      {"\xc3\xa9", false},
  }));
  CAPTURE(c.key);
  CHECK(validate_label_key(c.key, "labels.x").ok() == c.ok);
  CHECK(label_key_problem(c.key).empty() == c.ok);
}

TEST_CASE("label key errors say which part is wrong", "[api][names]") {
  auto s = validate_label_key("Env.X/x", R"(labels."Env.X/x")");
  REQUIRE_FALSE(s);
  CHECK(s.error().message.rfind(R"(labels."Env.X/x": label key prefix must be a DNS-1123 subdomain)", 0) == 0);
  auto n = validate_label_key(std::string(64, 'a'), "labels.k");
  REQUIRE_FALSE(n);
  CHECK(n.error().message == "labels.k: label key name must be at most 63 characters (is 64)");
}

TEST_CASE("label values", "[api][names]") {
  CHECK(validate_label_value("", "v"));
  CHECK(validate_label_value("prod", "v"));
  CHECK(validate_label_value("A.b_c-9", "v"));
  CHECK(validate_label_value(std::string(63, 'z'), "v"));
  CHECK_FALSE(validate_label_value(std::string(64, 'z'), "v"));
  CHECK_FALSE(validate_label_value("-prod", "v"));
  CHECK_FALSE(validate_label_value("prod_", "v"));
  CHECK_FALSE(validate_label_value("a/b", "v"));
  CHECK_FALSE(validate_label_value("a b", "v"));
  CHECK_FALSE(validate_label_value("caf\xc3\xa9", "v"));
}

TEST_CASE("label maps", "[api][names]") {
  model::Labels ok;
  for (int i = 0; i < 64; ++i) ok["k" + std::to_string(i)] = "v";
  CHECK(validate_labels(ok, "labels"));
  model::Labels too_many = ok;
  too_many["k64"] = "v";
  auto s = validate_labels(too_many, "labels");
  REQUIRE_FALSE(s);
  CHECK(s.error().field == "labels");
  auto bad = validate_labels({{"env/x/y", "prod"}}, "labels");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().field == R"(labels."env/x/y")");
  auto bad_value = validate_labels({{"env", "no good"}}, "labels");
  REQUIRE_FALSE(bad_value);
  CHECK(bad_value.error().field == "labels.env");
}

TEST_CASE("taints", "[api][names]") {
  CHECK(validate_taints(
      {{"dedicated", "ml", "NoSchedule"}, {"dedicated", "ml", "NoExecute"}, {"gpu", "", "PreferNoSchedule"}},
      "taints"));
  auto dup = validate_taints({{"dedicated", "ml", "NoSchedule"}, {"dedicated", "other", "NoSchedule"}}, "taints");
  REQUIRE_FALSE(dup);
  CHECK(dup.error().field == "taints[1]");
  auto effect = validate_taints({{"a", "", "NoSchedule"}, {"b", "", "noschedule"}}, "taints");
  REQUIRE_FALSE(effect);
  CHECK(effect.error().field == "taints[1].effect");
  auto key = validate_taint({"", "", "NoSchedule"}, "taints[0]");
  REQUIRE_FALSE(key);
  CHECK(key.error().field == "taints[0].key");
  auto value = validate_taint({"k", "bad value", "NoSchedule"}, "taints[0]");
  REQUIRE_FALSE(value);
  CHECK(value.error().field == "taints[0].value");
  std::vector<model::Taint> many;
  for (int i = 0; i < 33; ++i) many.push_back({"k" + std::to_string(i), "", "NoSchedule"});
  CHECK_FALSE(validate_taints(many, "taints"));
  many.pop_back();
  CHECK(validate_taints(many, "taints"));
}

TEST_CASE("region, update group, provider", "[api][names]") {
  CHECK(validate_region("", "region"));
  CHECK(validate_region("westeurope", "region"));
  CHECK(validate_region("us-east-2", "region"));
  CHECK(validate_region("-", "region"));  // the documented rule is a character set, not a DNS label
  CHECK_FALSE(validate_region("West Europe", "region"));
  CHECK_FALSE(validate_region("us_east", "region"));
  CHECK_FALSE(validate_region(std::string(64, 'a'), "region"));
  CHECK(validate_update_group("", "updateGroup"));
  CHECK(validate_update_group("canary", "updateGroup"));
  CHECK_FALSE(validate_update_group("Canary", "updateGroup"));
  CHECK_FALSE(validate_update_group("-canary", "updateGroup"));
  CHECK(validate_provider("aks", "provider"));
  CHECK(validate_provider("arc", "provider"));
  auto p = validate_provider("AKS", "provider");
  REQUIRE_FALSE(p);
  CHECK(p.error().message == "provider: must be one of aks, arc");
}
