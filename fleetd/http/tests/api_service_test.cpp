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
  CHECK(wrong.headers["allow"] == "GET, HEAD");
  CHECK(nlohmann::json::parse(wrong.body)["detail"] == "this endpoint answers GET, HEAD only");
}

TEST_CASE("api service: HEAD runs a GET, except an async GET that changes state", "[fleetd][http]") {
  Service s;
  int runs = 0;
  s.api.add_plain_route("GET", "/plain", [&runs](Call& call) {
    ++runs;
    http::Response r;
    r.body = call.req.method;  // the server drops the body of a HEAD answer and keeps its length
    return r;
  });
  s.api.add_async_route(
      "GET", "/safe", [](const std::shared_ptr<Call>&, const http::Respond& respond) { respond(http::Response{}); },
      ApiService::Safety::kSafe);
  int polls = 0;
  s.api.add_async_route("GET", "/poll", [&polls](const std::shared_ptr<Call>&, const http::Respond& respond) {
    ++polls;
    respond(http::Response{});
  });
  s.api.add_async_route("POST", "/poll",
                        [](const std::shared_ptr<Call>&, const http::Respond& respond) { respond(http::Response{}); });
  auto head = s.call("HEAD", "/plain");
  CHECK(head.status == 200);
  CHECK(head.body == "HEAD");
  CHECK(runs == 1);
  CHECK(s.call("HEAD", "/safe").status == 200);
  // The poll is not run by a HEAD: 405, and its Allow leaves HEAD out.
  auto refused = s.call("HEAD", "/poll");
  CHECK(refused.status == 405);
  CHECK(refused.headers["allow"] == "GET, POST");
  CHECK(polls == 0);
  CHECK(s.call("GET", "/poll").status == 200);
  CHECK(polls == 1);
  // A POST route answers no HEAD either.
  CHECK(s.call("POST", "/plain").headers["allow"] == "GET, HEAD");
}

TEST_CASE("api service: routine answers are logged at debug, their failures and everything else at info",
          "[fleetd][http][access-log]") {
  using log::Level;
  CHECK(ApiService::access_log_level(true, 200) == Level::kDebug);
  CHECK(ApiService::access_log_level(true, 204) == Level::kDebug);
  CHECK(ApiService::access_log_level(true, 401) == Level::kInfo);
  CHECK(ApiService::access_log_level(true, 503) == Level::kInfo);
  CHECK(ApiService::access_log_level(false, 200) == Level::kInfo);
  CHECK(ApiService::access_log_level(false, 404) == Level::kInfo);
}

}  // namespace fleet
