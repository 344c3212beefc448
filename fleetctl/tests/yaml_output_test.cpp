#include <catch2/catch.hpp>

#include <string>

#include <yaml-cpp/yaml.h>

#include "api/yaml_json.hpp"
#include "fleetctl/yaml_output.hpp"

using namespace fleet;
using fleet::api::parse_yaml;
using fleet::ctl::to_yaml;
using nlohmann::json;

TEST_CASE("yaml: block layout", "[fleetctl][yaml]") {
  json j = json::parse(R"({
    "name": "aks-westeurope-1", "labels": {"env": "prod", "app.kubernetes.io/name": "web"}, "empty": {}, "none": [],
    "taints": [{"key": "gpu", "value": "", "effect": "NoSchedule"}], "lastHeartbeat": null, "n": 3, "ok": true,
    "nested": [[1, 2], "x"]
  })");
  CHECK(to_yaml(j) ==
        "empty: {}\n"
        "labels:\n"
        "  app.kubernetes.io/name: web\n"
        "  env: prod\n"
        "lastHeartbeat: null\n"
        "\"n\": 3\n"  // "n" is a YAML 1.1 boolean
        "name: aks-westeurope-1\n"
        "nested:\n"
        "  -\n"
        "    - 1\n"
        "    - 2\n"
        "  - x\n"
        "none: []\n"
        "ok: true\n"
        "taints:\n"
        "  - effect: NoSchedule\n"
        "    key: gpu\n"
        "    value: \"\"\n");
  CHECK(to_yaml(json("x")) == "x\n");
  CHECK(to_yaml(json::array()) == "[]\n");
  CHECK(to_yaml(json::parse(R"([{"a": 1}, {"b": {"c": [true]}}])")) == "- a: 1\n- b:\n    c:\n      - true\n");
}

TEST_CASE("yaml: strings that look like something else are quoted", "[fleetctl][yaml]") {
  struct Case {
    std::string in;
    std::string out;
  };
  auto c = GENERATE(values<Case>({
      {"prod", "prod"},
      {"NoSchedule", "NoSchedule"},
      {"a.b/c-d_e", "a.b/c-d_e"},
      {"hello world", "hello world"},
      {"42", "\"42\""},
      {"-1", "\"-1\""},
      {"+1", "\"+1\""},
      {"1.5", "\"1.5\""},
      {"1e3", "\"1e3\""},
      {"0x1F", "\"0x1F\""},
      {".inf", "\".inf\""},
      {".5", "\".5\""},
      {"2026-11-23T01:02:03.456Z", "\"2026-11-23T01:02:03.456Z\""},
      {"true", "\"true\""},
      {"False", "\"False\""},
      {"yes", "\"yes\""},
      {"No", "\"No\""},
      {"on", "\"on\""},
      {"OFF", "\"OFF\""},
      {"y", "\"y\""},
      {"n", "\"n\""},
      {"null", "\"null\""},
      {"Null", "\"Null\""},
      {"~", "\"~\""},
      {"", "\"\""},
      {" lead", "\" lead\""},
      {"trail ", "\"trail \""},
      {"a: b", "\"a: b\""},
      {"a #b", "\"a #b\""},
      {"- x", "\"- x\""},
      {"[x]", "\"[x]\""},
      {"{x}", "\"{x}\""},
      {"*alias", "\"*alias\""},
      {"&anchor", "\"&anchor\""},
      {"!tag", "\"!tag\""},
      {"say \"hi\"", "\"say \\\"hi\\\"\""},
      {"back\\slash", "\"back\\\\slash\""},
      {"two\nlines", "\"two\\nlines\""},
      {"tab\there", "\"tab\\there\""},
      {"bell\x07", "\"bell\\x07\""},
      {"del\x7f", "\"del\\x7F\""},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
      {"bom\xef\xbb\xbf", "\"bom\\ufeff\""},  // yaml-cpp writes lower-case hex
      {"bad\xff", "\"bad\xef\xbf\xbd\""},
  }));
  CAPTURE(c.in);
  CHECK(to_yaml(json(c.in)) == c.out + "\n");
}

TEST_CASE("yaml: output round-trips through parse_yaml and yaml-cpp", "[fleetctl][yaml]") {
  json j = json::parse(R"({
    "strings": ["42", "true", "null", "~", "", "1.5", "0x1F", "yes", "2026-11-23", "a: b", "x\ny", "caf\u00e9",
                "\u0007", "\ud83d\ude00", "NoSchedule", "-", "."],
    "numbers": [0, -1, 18446744073709551615, 1.5, -2.25, 1e+20, 3.0],
    "bools": [true, false], "null": null, "empty": {}, "list": [],
    "keys": {"42": 1, "true": 2, "": 3, "a b": 4, "app.kubernetes.io/name": 5},
    "deep": [[{"a": [{"b": {}}]}]]
  })");
  std::string yaml = to_yaml(j);
  CAPTURE(yaml);
  auto back = parse_yaml(yaml);
  REQUIRE(back);
  CHECK(*back == j);
  // yaml-cpp's own reading agrees on what is a string.
  YAML::Node node = YAML::Load(yaml);
  CHECK(node["strings"][0].as<std::string>() == "42");
  CHECK(node["strings"][0].Tag() == "!");
  CHECK(node["numbers"][1].as<int>() == -1);
  CHECK(node["numbers"][5].as<double>() == 1e20);
}
