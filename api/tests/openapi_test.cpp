#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/openapi.hpp"

using namespace fleet::api;
using nlohmann::json;

namespace {

const json& doc() {
  static const json d = json::parse(openapi_json());
  return d;
}

// `GET /v1/clusters/{name}` rows of the endpoint table in docs/api.md.
std::vector<std::pair<std::string, std::string>> documented_endpoints() {
  std::ifstream in(FLEET_API_DOC_PATH);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  std::vector<std::pair<std::string, std::string>> out;
  static const std::regex row(R"(\n\| `(GET|POST|PUT|PATCH|DELETE) (/[^`]*)` \|)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), row); it != std::sregex_iterator(); ++it) {
    out.emplace_back((*it)[1].str(), (*it)[2].str());
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void collect_refs(const json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "$ref" && v.is_string()) out.push_back(v.get<std::string>());
      collect_refs(v, out);
    }
  } else if (j.is_array()) {
    for (const json& v : j) collect_refs(v, out);
  }
}

}  // namespace

TEST_CASE("openapi: converts to JSON of version 3.0.x", "[api][openapi]") {
  REQUIRE_NOTHROW(doc());
  CHECK(doc()["openapi"].get<std::string>().rfind("3.0.", 0) == 0);
  CHECK(doc()["info"]["version"] == "0.1.0");
  CHECK(&openapi_json() == &openapi_json());
  CHECK(openapi_yaml().rfind("openapi: 3.0.3", 0) == 0);
}

TEST_CASE("openapi: concurrent first use yields one document", "[api][openapi]") {
  std::vector<const std::string*> seen(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) threads.emplace_back([&seen, i] { seen[i] = &openapi_json(); });
  for (auto& t : threads) t.join();
  for (const std::string* p : seen) CHECK(p == seen.front());
}

TEST_CASE("openapi: every endpoint of docs/api.md is described", "[api][openapi]") {
  auto endpoints = documented_endpoints();
  REQUIRE(endpoints.size() >= 14);
  for (const auto& [method, path] : endpoints) {
    CAPTURE(method, path);
    REQUIRE(doc()["paths"].contains(path));
    CHECK(doc()["paths"][path].contains(lower(method)));
  }
}

TEST_CASE("openapi: every $ref resolves", "[api][openapi]") {
  std::vector<std::string> refs;
  collect_refs(doc(), refs);
  REQUIRE_FALSE(refs.empty());
  for (const std::string& ref : refs) {
    CAPTURE(ref);
    REQUIRE(ref.rfind("#/", 0) == 0);
    CHECK(doc().contains(json::json_pointer(ref.substr(1))));
  }
}

TEST_CASE("openapi: operations carry the documented headers and error responses", "[api][openapi]") {
  std::set<std::string> operation_ids;
  for (const auto& [path, item] : doc()["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters") continue;
      CAPTURE(path, method);
      CHECK(operation_ids.insert(op["operationId"].get<std::string>()).second);
      const json& responses = op["responses"];
      bool protected_op = !op.contains("security") || !op["security"].empty();
      if (protected_op) CHECK(responses.contains("401"));
      // Registration authenticates with a bootstrap token and has no role to lack: no 403.
      if (path.rfind("/v1/", 0) == 0) {
        if (path != "/v1/agents/register") CHECK(responses.contains("403"));
        CHECK(responses.contains("500"));
        CHECK(responses.contains("503"));
      }
      CHECK(responses.contains("431"));
      if (op.contains("requestBody")) {
        for (const char* code : {"400", "413", "415", "422"}) CHECK(responses.contains(code));
      }
      bool has_request_id_param = false;
      for (const json& p : op["parameters"]) {
        has_request_id_param = has_request_id_param || p["$ref"] == "#/components/parameters/XRequestId";
      }
      CHECK(has_request_id_param);
      for (const auto& [code, response] : responses.items()) {
        if (code[0] != '2') continue;
        CHECK(response["headers"].contains("X-Request-Id"));
      }
      // docs/api.md: cluster writes honour If-Match; token revocation does not.
      if (path.rfind("/v1/clusters/", 0) == 0 && (method == "patch" || method == "delete")) {
        bool if_match = false;
        for (const json& p : op["parameters"]) if_match = if_match || p["$ref"] == "#/components/parameters/IfMatch";
        CHECK(if_match);
        CHECK(responses.contains("412"));
      }
      // Creating POSTs honour Idempotency-Key, except those that mint a secret: a replay would have to store it.
      // A heartbeat creates nothing: it is ordered by its sequence number, not by a key. A command report is
      // idempotent by the command's id.
      if (method == "post" && path != "/v1/agents/{cluster}/heartbeat" &&
          path != "/v1/agents/{cluster}/commands/{id}") {
        bool key = false;
        for (const json& p : op["parameters"]) key = key || p["$ref"] == "#/components/parameters/IdempotencyKey";
        const bool mints_secret =
            path == "/v1/tokens" || path == "/v1/agents/register" || path == "/v1/clusters/{name}/bootstrap-tokens";
        CHECK(key == !mints_secret);
        if (!mints_secret) CHECK(responses.contains("409"));
      }
    }
  }
  const json& schemas = doc()["components"]["schemas"];
  for (const char* s :
       {"Cluster", "ClusterCreate", "ClusterPatch", "ClusterList", "Problem", "Token", "TokenCreate", "TokenCreated"}) {
    CHECK(schemas.contains(s));
  }
  CHECK(doc()["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer");
  CHECK(schemas["Cluster"]["properties"]["resourceVersion"]["type"] == "string");
  CHECK(schemas["Cluster"]["properties"]["lastHeartbeat"]["nullable"] == true);
}
