// ApiService as the error boundary, without a database: a throwing plain or async handler is a 500 with the request
// id, a database route whose job cannot be queued is a 503 with Retry-After.
#include "fleetd/http/api_service.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/testing/manual_clock.hpp"

namespace fleet {
namespace {

http::Request request(std::string method, std::string target) {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.request_id = "req-42";
  return r;
}

struct Service {
  testing::ManualClock clock;
  DbPool pool{[] {
                DbPoolOptions o;
                o.connections = 0;  // no workers, and no room: every database job is refused
                o.max_queue = 0;
                return o;
              }(),
              clock};
  Metrics metrics;
  ApiService api{pool, metrics, clock, {}};

  http::Response call(const std::string& method, const std::string& target) {
    std::optional<http::Response> got;
    int answers = 0;
    api.handle(request(method, target), [&](http::Response r) {
      ++answers;
      got = std::move(r);
    });
    REQUIRE(answers == 1);
    return *got;
  }
};

}  // namespace

TEST_CASE("api service: a handler that throws is a 500 problem with the request id", "[fleetd][http]") {
  Service s;
  s.api.add_plain_route("GET", "/boom", [](Call&) -> http::Response { throw std::runtime_error("secret detail"); });
  s.api.add_async_route("GET", "/later/{x}",
                        [](std::shared_ptr<Call>, http::Respond) { throw std::logic_error("async bug"); });
  for (const char* target : {"/boom", "/later/1"}) {
    auto r = s.call("GET", target);
    CHECK(r.status == 500);
    CHECK(r.headers["content-type"] == "application/problem+json");
    auto body = nlohmann::json::parse(r.body);
    CHECK(body["type"] == "urn:fleetd:problem:internal");
    CHECK(body["requestId"] == "req-42");
    CHECK(r.body.find("secret detail") == std::string::npos);
  }
}

TEST_CASE("api service: an async handler that answers and then throws answers once", "[fleetd][http]") {
  Service s;
  s.api.add_async_route("GET", "/half", [](std::shared_ptr<Call>, http::Respond respond) {
    http::Response ok;
    ok.status = 204;
    respond(ok);
    throw std::runtime_error("after the answer");
  });
  CHECK(s.call("GET", "/half").status == 204);
}

TEST_CASE("api service: a database job that cannot be queued is a 503 with Retry-After", "[fleetd][http]") {
  Service s;
  s.api.add_db_route("GET", "/db", std::nullopt, [](Call&, pqxx::connection_base&) { return http::Response{}; });
  auto r = s.call("GET", "/db");
  CHECK(r.status == 503);
  CHECK(r.headers["retry-after"] == "1");
  CHECK(nlohmann::json::parse(r.body)["type"] == "urn:fleetd:problem:unavailable");
  // Unknown paths and methods are still answered at once.
  CHECK(s.call("GET", "/nope").status == 404);
  auto wrong = s.call("POST", "/db");
  CHECK(wrong.status == 405);
  CHECK(wrong.headers["allow"] == "GET");
  CHECK(nlohmann::json::parse(wrong.body)["detail"] == "this endpoint answers GET only");
}

}  // namespace fleet
