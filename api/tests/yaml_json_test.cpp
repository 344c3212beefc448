#include "api/yaml_json.hpp"

#include <catch2/catch.hpp>

using namespace fleet;
using fleet::api::parse_yaml;
using nlohmann::json;

TEST_CASE("yaml: parse_yaml resolves plain scalars by the 1.2 core schema", "[api][yaml]") {
  auto r = parse_yaml(
      "a: 1\nb: 1.5\nc: true\nd: null\ne: ~\nf: \"1\"\ng: '2'\nh: yes\ni: 0x10\nj: 0o17\nk: -.inf\n"
      "l: text\nm:\nn: [1, two]\no: !!str 3\nanchor: &x {k: v}\nalias: *x\n");
  REQUIRE(r);
  json& j = *r;
  CHECK(j["a"] == 1);
  CHECK(j["b"] == 1.5);
  CHECK(j["c"] == true);
  CHECK(j["d"].is_null());
  CHECK(j["e"].is_null());
  CHECK(j["f"] == "1");
  CHECK(j["g"] == "2");
  CHECK(j["h"] == "yes");  // YAML 1.2: not a boolean
  CHECK(j["i"] == 16);
  CHECK(j["j"] == 15);
  CHECK(j["k"].get<double>() < 0);
  CHECK(j["l"] == "text");
  CHECK(j["m"].is_null());
  CHECK(j["n"] == json::parse(R"([1, "two"])"));
  CHECK(j["o"] == "3");
  CHECK(j["alias"] == json{{"k", "v"}});
}

TEST_CASE("yaml: parse errors name the line", "[api][yaml]") {
  auto r = parse_yaml("a: 1\nb: [1, 2\n");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("line"));
}

TEST_CASE("yaml: parse_yaml_documents reads every document of a stream", "[api][yaml]") {
  auto r = api::parse_yaml_documents("a: 1\n---\nb: two\n---\n---\n- 3\n");
  REQUIRE(r);
  CHECK(*r == std::vector<json>{json{{"a", 1}}, json{{"b", "two"}}, nullptr, json{3}});
  auto bad = api::parse_yaml_documents("a: 1\n---\nb: [1\n");
  REQUIRE_FALSE(bad);
  // Lines count from the start of the stream: the unclosed "[" is found at its end.
  CHECK_THAT(bad.error().message, Catch::Contains("line 4"));
}
