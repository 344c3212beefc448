#include <catch2/catch.hpp>

#include <string>

#include "model/label_selector.hpp"

using namespace fleet;
using namespace fleet::model;
using Op = LabelRequirement::Op;

namespace {
LabelSelector parse_ok(const std::string& text) {
  auto r = parse_label_selector(text);
  INFO(text << " → " << (r ? std::string("ok") : r.error().message));
  REQUIRE(r);
  return r.value();
}
}  // namespace

TEST_CASE("selector: good inputs", "[api][selector]") {
  struct Case {
    std::string text;
    std::vector<LabelRequirement> want;
  };
  auto c = GENERATE(values<Case>({
      {"", {}},
      {"   \t\n", {}},
      {"env=prod", {{"env", Op::kEquals, {"prod"}}}},
      {"env==prod", {{"env", Op::kEquals, {"prod"}}}},
      {"tier!=gold", {{"tier", Op::kNotEquals, {"gold"}}}},
      {"env in (prod,staging)", {{"env", Op::kIn, {"prod", "staging"}}}},
      {"env in (staging, prod, prod)", {{"env", Op::kIn, {"prod", "staging"}}}},
      {"env notin (dev)", {{"env", Op::kNotIn, {"dev"}}}},
      {"gpu", {{"gpu", Op::kExists, {}}}},
      {"!gpu", {{"gpu", Op::kDoesNotExist, {}}}},
      {"! gpu", {{"gpu", Op::kDoesNotExist, {}}}},
      {"  env = prod ,  tier != gold  ", {{"env", Op::kEquals, {"prod"}}, {"tier", Op::kNotEquals, {"gold"}}}},
      {"env in(a),x", {{"env", Op::kIn, {"a"}}, {"x", Op::kExists, {}}}},
      {"a==", {{"a", Op::kEquals, {""}}}},
      {"a=,b", {{"a", Op::kEquals, {""}}, {"b", Op::kExists, {}}}},
      {"a in ()", {{"a", Op::kIn, {""}}}},
      {"a in (x,,y)", {{"a", Op::kIn, {"", "x", "y"}}}},
      {"a in (,x)", {{"a", Op::kIn, {"", "x"}}}},
      {"app.kubernetes.io/name=web", {{"app.kubernetes.io/name", Op::kEquals, {"web"}}}},
      {"in=notin", {{"in", Op::kEquals, {"notin"}}}},
      {"k in (in,notin)", {{"k", Op::kIn, {"in", "notin"}}}},
      {"env=prod,!gpu,tier in (a,b),zone notin (z1),region",
       {{"env", Op::kEquals, {"prod"}},
        {"gpu", Op::kDoesNotExist, {}},
        {"tier", Op::kIn, {"a", "b"}},
        {"zone", Op::kNotIn, {"z1"}},
        {"region", Op::kExists, {}}}},
  }));
  CAPTURE(c.text);
  CHECK(parse_ok(c.text).requirements == c.want);
}

TEST_CASE("selector: bad inputs name the position and token", "[api][selector]") {
  struct Case {
    std::string text;
    std::string fragment;
  };
  auto c = GENERATE(values<Case>({
      {"env in (prod", "unexpected end of input at offset 12"},
      {"=x", "unexpected \"=\" at offset 0"},
      {"env=prod,", "after ','"},
      {",env", "unexpected \",\" at offset 0"},
      {"env in prod", "expected '('"},
      {"env in (a b)", "unexpected \"b\" at offset 10"},
      {"env notin", "expected '('"},
      {"env prod", "unexpected \"prod\" at offset 4"},
      {"env=a=b", "unexpected \"=\" at offset 5"},
      {"!env=prod", "unexpected \"=\" at offset 4"},
      {"!", "a label key after '!'"},
      {"env>1", "not supported"},
      {"env<1", "not supported"},
      {"env=(a)", "expected a label value"},
      {"Env_=x", "invalid key"},
      {"env=-bad", "invalid value"},
      {"env=a b", "unexpected \"b\""},
      {"\xc3\xa9t\xc3\xa9=x", "invalid key \"\\u00e9t\\u00e9\""},
      {"env=caf\xc3\xa9", "invalid value"},
      {"a/b/c=x", "invalid key"},
      {"env in (a))", "unexpected \")\""},
      {"env in ((a))", "unexpected \"(\""},
      {"a,,b", "after ','"},
      {"env!", "unexpected \"!\""},
  }));
  CAPTURE(c.text);
  auto r = parse_label_selector(c.text);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalid);
  CHECK(r.error().type == "invalid-query");
  CHECK(r.error().field == "labelSelector");
  CHECK_THAT(r.error().message, Catch::Contains(c.fragment));
}

TEST_CASE("selector: limits", "[api][selector]") {
  std::string big = "k=" + std::string(4095, 'a');
  CHECK_THAT(parse_label_selector(big).error().message, Catch::Contains("at most 4096 bytes"));
  std::string reqs;
  for (int i = 0; i < 32; ++i) reqs += (i ? ",k" : "k") + std::to_string(i);
  CHECK(parse_label_selector(reqs));
  CHECK_THAT(parse_label_selector(reqs + ",k32").error().message, Catch::Contains("at most 32 requirements"));
  std::string set = "k in (";
  for (int i = 0; i < 64; ++i) set += (i ? ",v" : "v") + std::to_string(i);
  CHECK(parse_label_selector(set + ")"));
  CHECK_THAT(parse_label_selector(set + ",v64)").error().message, Catch::Contains("at most 64 values"));
  // A long garbage token is not echoed whole.
  auto r = parse_label_selector(std::string(300, 'x') + " y");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.size() < 200);
}

TEST_CASE("selector: matches follows Kubernetes semantics", "[api][selector]") {
  const model::Labels prod_gpu{{"env", "prod"}, {"gpu", "a100"}};
  const model::Labels dev{{"env", "dev"}};
  const model::Labels none{};
  const model::Labels empty_env{{"env", ""}};
  struct Case {
    std::string selector;
    bool prod_gpu, dev, none, empty_env;
  };
  auto c = GENERATE(values<Case>({
      {"", true, true, true, true},
      {"env=prod", true, false, false, false},
      {"env!=prod", false, true, true, true},
      {"env in (prod,dev)", true, true, false, false},
      {"env notin (prod)", false, true, true, true},
      {"gpu", true, false, false, false},
      {"!gpu", false, true, true, true},
      {"env", true, true, false, true},
      {"env=", false, false, false, true},
      {"env!=", true, true, true, false},
      {"env in ()", false, false, false, true},
      {"env=prod,gpu=a100", true, false, false, false},
      {"env=prod,!gpu", false, false, false, false},
  }));
  CAPTURE(c.selector);
  LabelSelector s = parse_ok(c.selector);
  CHECK(matches(s, prod_gpu) == c.prod_gpu);
  CHECK(matches(s, dev) == c.dev);
  CHECK(matches(s, none) == c.none);
  CHECK(matches(s, empty_env) == c.empty_env);
}

TEST_CASE("selector: SQL JSON for fleet_labels_match", "[api][selector]") {
  auto s = parse_ok("env==prod,tier!=gold,zone in (b,a),x notin (y),gpu,!spot");
  nlohmann::json want = nlohmann::json::parse(R"([
    {"key": "env", "op": "=", "values": ["prod"]},
    {"key": "tier", "op": "!=", "values": ["gold"]},
    {"key": "zone", "op": "in", "values": ["a", "b"]},
    {"key": "x", "op": "notin", "values": ["y"]},
    {"key": "gpu", "op": "exists", "values": []},
    {"key": "spot", "op": "!", "values": []}
  ])");
  CHECK(to_sql_json(s) == want);
  CHECK(to_sql_json(LabelSelector{}) == nlohmann::json::array());
}

TEST_CASE("selector: canonical text round-trips", "[api][selector]") {
  for (std::string text : {"env==prod,tier!=gold", "zone in (b,a,,c),x notin (y),gpu,!spot", "a=,b in ()", ""}) {
    LabelSelector s = parse_ok(text);
    CAPTURE(text, to_string(s));
    CHECK(parse_ok(to_string(s)) == s);
  }
  CHECK(to_string(parse_ok(" env == prod , ! gpu ")) == "env=prod,!gpu");
}
