#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "fleetctl/config.hpp"
#include "fleetctl/exit_codes.hpp"
#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using testing::Harness;
using testing::TempDir;

TEST_CASE("config path: --config beats $FLEETCTL_CONFIG beats ~/.fleet/config.json", "[fleetctl]") {
  CHECK(default_config_path(std::string("/etc/f.json"), std::string("/home/u")) == "/etc/f.json");
  CHECK(default_config_path(std::string(""), std::string("/home/u")) == "/home/u/.fleet/config.json");
  CHECK(default_config_path(std::nullopt, std::string("/home/u")) == "/home/u/.fleet/config.json");
  CHECK(default_config_path(std::nullopt, std::nullopt) == "./.fleet/config.json");

  Harness h([](const testing::SeenRequest&) { return testing::json_response(200, R"({"items":[]})"); });
  const auto env_file = h.dir() / "env.json";
  const auto flag_file = h.dir() / "flag.json";
  std::ofstream(env_file) << R"({"currentContext":"a","contexts":[{"name":"a","server":"http://env:1"}]})";
  std::ofstream(flag_file) << R"({"currentContext":"b","contexts":[{"name":"b","server":"http://flag:2"}]})";
  h.env().fleetctl_config = env_file.string();
  REQUIRE(h.run({"get", "clusters"}).exit_code == 0);
  CHECK(h.last_options().base_url == "http://env:1");
  REQUIRE(h.run({"get", "clusters", "--config", flag_file.string()}).exit_code == 0);
  CHECK(h.last_options().base_url == "http://flag:2");
}

TEST_CASE("config: a missing file is empty, save/load round-trips with mode 0600", "[fleetctl]") {
  TempDir dir;
  const std::string path = (dir.path() / "sub" / "config.json").string();
  auto empty = load_config(path);
  REQUIRE(empty.ok());
  CHECK(empty->contexts.empty());

  Config config;
  config.current_context = "local";
  config.contexts.push_back({"local", "http://127.0.0.1:8080", "tok", "/abs/ca.pem"});
  config.contexts.push_back({"prod", "https://fleet.example:8443", "", ""});
  REQUIRE(save_config(config, path).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto loaded = load_config(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->current_context == "local");
  REQUIRE(loaded->contexts.size() == 2);
  CHECK(loaded->contexts[0] == config.contexts[0]);
  CHECK(loaded->contexts[1] == config.contexts[1]);
}

TEST_CASE("config: relative caFile is relative to the file — malformed files are errors", "[fleetctl]") {
  TempDir dir;
  const auto path = dir.path() / "config.json";
  std::ofstream(path)
      << R"({"currentContext":"local","contexts":[{"name":"local","server":"https://h","caFile":"ca.pem"}]})";
  auto loaded = load_config(path.string());
  REQUIRE(loaded.ok());
  CHECK(loaded->contexts[0].ca_file == (dir.path() / "ca.pem").string());

  for (const char* bad : {"not json", "[]", R"({"contexts": 5})", R"({"contexts": [{"server": "http://x"}]})"}) {
    std::ofstream(path) << bad;
    auto result = load_config(path.string());
    INFO(bad);
    REQUIRE_FALSE(result.ok());
    CHECK_THAT(result.error().message, Catch::Contains(path.string()));
    CHECK(exit_code_for(result.error()) == ExitCode::kClientError);
  }
}

TEST_CASE("config: flags override the chosen context field by field", "[fleetctl]") {
  Config config;
  config.current_context = "local";
  config.contexts = {{"local", "http://127.0.0.1:8080", "t1", ""}, {"prod", "https://p:8443", "t2", "/ca.pem"}};

  auto current = resolve_connection(config, {});
  REQUIRE(current.ok());
  CHECK(current->server == "http://127.0.0.1:8080");
  CHECK(current->token == "t1");

  ConnectionOverrides pick_prod;
  pick_prod.context = "prod";
  auto prod = resolve_connection(config, pick_prod);
  REQUIRE(prod.ok());
  CHECK(prod->server == "https://p:8443");
  CHECK(prod->ca_file == "/ca.pem");

  ConnectionOverrides flags;
  flags.context = "prod";
  flags.token = "t3";
  flags.ca_file = "/other.pem";
  auto mixed = resolve_connection(config, flags);
  REQUIRE(mixed.ok());
  CHECK(mixed->server == "https://p:8443");
  CHECK(mixed->token == "t3");
  CHECK(mixed->ca_file == "/other.pem");

  ConnectionOverrides server_only;
  server_only.server = "http://s:1";
  auto s = resolve_connection(Config{}, server_only);
  REQUIRE(s.ok());
  CHECK(s->server == "http://s:1");
  CHECK(s->token.empty());

  ConnectionOverrides unknown;
  unknown.context = "nope";
  auto missing = resolve_connection(config, unknown);
  REQUIRE_FALSE(missing.ok());
  CHECK(exit_code_for(missing.error()) == ExitCode::kUsage);
  auto nothing = resolve_connection(Config{}, {});
  REQUIRE_FALSE(nothing.ok());
  CHECK_THAT(nothing.error().message, Catch::Contains("--server"));
}

TEST_CASE("config commands: set-context, use-context, get-contexts, current-context", "[fleetctl]") {
  Harness h;
  const std::string path = (h.dir() / "c.json").string();
  auto r = h.run(
      {"config", "set-context", "local", "--server", "http://127.0.0.1:8080", "--token", "abc", "--config", path});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "Context \"local\" created.\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  REQUIRE(h.run({"config", "set-context", "prod", "--server", "https://p:8443", "--config", path}).exit_code == 0);
  r = h.run({"config", "set-context", "prod", "--token", "t2", "--config", path});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "Context \"prod\" modified.\n");

  r = h.run({"config", "get-contexts", "--config", path});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "CURRENT   NAME    SERVER                  CA-FILE\n"
        "*         local   http://127.0.0.1:8080   <none>\n"
        "          prod    https://p:8443          <none>\n");
  CHECK(r.out.find("abc") == std::string::npos);  // tokens are never printed

  r = h.run({"config", "use-context", "prod", "--config", path});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "Switched to context \"prod\".\n");
  CHECK(h.run({"config", "current-context", "--config", path}).out == "prod\n");
  auto loaded = load_config(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->find("prod")->token == "t2");
  CHECK(loaded->find("prod")->server == "https://p:8443");

  CHECK(h.run({"config", "use-context", "nope", "--config", path}).exit_code == 1);
  CHECK(h.run({"config", "set-context", "new", "--config", path}).exit_code == 2);  // no --server
  CHECK(h.run({"config", "set-context", "x", "--server", "fleet:80", "--config", path}).exit_code == 2);
}

TEST_CASE("config view: the file with tokens REDACTED, --raw, --minify and -o json", "[fleetctl][config]") {
  Harness h;
  const std::string path = (h.dir() / "c.json").string();
  REQUIRE(
      h.run({"config", "set-context", "local", "--server", "http://127.0.0.1:8080", "--token", "abc", "--config", path})
          .exit_code == 0);
  REQUIRE(h.run({"config", "set-context", "prod", "--server", "https://p:8443", "--config", path}).exit_code == 0);

  auto r = h.run({"config", "view", "--config", path});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "contexts:\n"
        "  - caFile: \"\"\n"
        "    name: local\n"
        "    server: \"http://127.0.0.1:8080\"\n"
        "    token: REDACTED\n"
        "  - caFile: \"\"\n"
        "    name: prod\n"
        "    server: \"https://p:8443\"\n"
        "    token: \"\"\n"
        "currentContext: local\n");
  CHECK(r.err.empty());

  r = h.run({"config", "view", "--raw", "--minify", "-o", "json", "--config", path});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "{\n"
        "  \"contexts\": [\n"
        "    {\n"
        "      \"caFile\": \"\",\n"
        "      \"name\": \"local\",\n"
        "      \"server\": \"http://127.0.0.1:8080\",\n"
        "      \"token\": \"abc\"\n"
        "    }\n"
        "  ],\n"
        "  \"currentContext\": \"local\"\n"
        "}\n");
  // --minify follows --context.
  r = h.run({"config", "view", "--minify", "--context", "prod", "--config", path});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("    name: prod\n"));
  CHECK_THAT(r.out, !Catch::Contains("local"));
  CHECK_THAT(r.out, Catch::EndsWith("currentContext: prod\n"));
  r = h.run({"config", "view", "--minify", "--context", "nope", "--config", path});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("no context named \"nope\""));
  // No file yet: an empty config, not an error (as get-contexts).
  r = h.run({"config", "view", "--config", (h.dir() / "none.json").string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "contexts: []\ncurrentContext: \"\"\n");
}

}  // namespace fleet::ctl
