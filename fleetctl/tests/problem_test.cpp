#include <catch2/catch.hpp>

#include "fleetctl/exit_codes.hpp"
#include "fleetctl/problem.hpp"
#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using testing::json_response;
using testing::problem;

TEST_CASE("problem+json becomes one line and an exit code per status class", "[fleetctl]") {
  struct Case {
    int status;
    std::string slug;
    ExitCode exit;
  };
  const std::vector<Case> cases = {
      {400, "malformed-json", ExitCode::kClientError},
      {422, "invalid-field", ExitCode::kClientError},
      {413, "payload-too-large", ExitCode::kClientError},
      {415, "unsupported-media-type", ExitCode::kClientError},
      {405, "method-not-allowed", ExitCode::kClientError},
      {401, "unauthenticated", ExitCode::kAuth},
      {403, "forbidden", ExitCode::kAuth},
      {404, "not-found", ExitCode::kNotFound},
      {409, "already-exists", ExitCode::kConflict},
      {412, "precondition-failed", ExitCode::kConflict},
      {500, "internal", ExitCode::kServer},
      {503, "unavailable", ExitCode::kServer},
  };
  for (const auto& c : cases) {
    INFO(c.status);
    auto error = error_from_response(json_response(c.status, problem(c.slug, c.status, "it went wrong")));
    CHECK(render_error(error) == "Error from server (" + c.slug + "): it went wrong");
    CHECK(exit_code_for(error) == c.exit);
  }
}

TEST_CASE("problem rendering: field, title fallback, non-JSON bodies", "[fleetctl]") {
  auto with_field = error_from_response(json_response(422, problem("invalid-field", 422, "too long", "labels.env")));
  CHECK(render_error(with_field) == "Error from server (invalid-field): too long (field \"labels.env\")");
  // When the detail already names the field (fleetd's style), it is not repeated.
  auto named =
      error_from_response(json_response(422, problem("invalid-field", 422, "labels.env: too long", "labels.env")));
  CHECK(render_error(named) == "Error from server (invalid-field): labels.env: too long");

  auto titled = error_from_response(json_response(400, R"({"type":"about:blank","title":"Bad thing"})"));
  CHECK(render_error(titled) == "Error from server (Bad thing): Bad thing");

  auto proxy = error_from_response({502, {{"content-type", "text/html"}}, "<html>\nbad gateway\n</html>"});
  CHECK(render_error(proxy) == "Error from server (Bad Gateway): <html> bad gateway </html>");
  CHECK(exit_code_for(proxy) == ExitCode::kServer);

  auto empty = error_from_response({418, {}, ""});
  CHECK(render_error(empty) == "Error from server (HTTP 418): the server answered HTTP 418");
  CHECK(exit_code_for(empty) == ExitCode::kClientError);
}

TEST_CASE("local errors: transport failures exit 6, usage errors 2, others 1", "[fleetctl]") {
  const auto refused = make_error(ErrorCode::kUnavailable, "cannot reach http://127.0.0.1:8080: connection refused");
  CHECK(render_error(refused) == "error: cannot reach http://127.0.0.1:8080: connection refused");
  CHECK(exit_code_for(refused) == ExitCode::kServer);
  CHECK(exit_code_for(make_error(ErrorCode::kInvalid, "bad flag")) == ExitCode::kUsage);
  CHECK(exit_code_for(make_error(ErrorCode::kInternal, "cannot read the config file")) == ExitCode::kClientError);
  CHECK(exit_code_for(make_error(ErrorCode::kTooLarge, "response too large")) == ExitCode::kClientError);
}

}  // namespace fleet::ctl
