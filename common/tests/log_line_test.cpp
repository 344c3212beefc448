// The two forms of a log line, byte for byte: JSON for machines, the console form for people.
#include <catch2/catch.hpp>

#include "common/log_line.hpp"
#include "common/time_format.hpp"

namespace fleet::log {
namespace {

std::chrono::system_clock::time_point at() {
  return *parse_timestamp("2026-12-05T15:07:41.123Z");
}

}  // namespace

TEST_CASE("log lines: JSON form carries the fixed keys first and every field", "[log]") {
  const nlohmann::json fields = {{"cluster", "aks-1"}, {"status", 200}, {"durationMs", 1.25}};
  const std::string line = format_json_line({at(), Level::kWarn, "fleetd", "request", &fields});
  CHECK(line == R"({"ts":"2026-12-05T15:07:41.123Z","level":"warn","component":"fleetd","msg":"request",)"
                R"("cluster":"aks-1","durationMs":1.25,"status":200})"
                "\n");
  CHECK(format_json_line({at(), Level::kInfo, "fleet-agent", "up", nullptr}) ==
        R"({"ts":"2026-12-05T15:07:41.123Z","level":"info","component":"fleet-agent","msg":"up"})"
        "\n");
}

TEST_CASE("log lines: console form is one aligned line with key=value fields", "[log]") {
  const nlohmann::json fields = {{"cluster", "aks-1"}, {"status", 200}, {"ok", true}, {"gone", nullptr}};
  CHECK(format_console_line({at(), Level::kInfo, "fleetd", "cluster registered", &fields}) ==
        "15:07:41.123 INFO  fleetd  cluster registered cluster=aks-1 gone=null ok=true status=200\n");
  CHECK(format_console_line({at(), Level::kError, "fleet-sim", "stopped", nullptr}) ==
        "15:07:41.123 ERROR fleet-sim  stopped\n");
  CHECK(format_console_line({at(), Level::kDebug, "fleetd", "x", nullptr}).substr(0, 19) == "15:07:41.123 DEBUG ");
}

TEST_CASE("log lines: console values that would be ambiguous bare are JSON-quoted", "[log]") {
  const nlohmann::json fields = {{"a", "two words"},  {"b", ""},         {"c", "k=v"},  {"d", "say \"hi\""},
                                 {"e", "line\nnext"}, {"f", {{"x", 1}}}, {"g", {1, 2}}, {"h", "plain-value/ok"}};
  CHECK(format_console_line({at(), Level::kInfo, "fleetd", "m", &fields}) ==
        "15:07:41.123 INFO  fleetd  m a=\"two words\" b=\"\" c=\"k=v\" d=\"say \\\"hi\\\"\" e=\"line\\nnext\" "
        "f={\"x\":1} g=[1,2] h=plain-value/ok\n");
}

TEST_CASE("log lines: a message cannot break the one-line form, and bad UTF-8 is replaced, never thrown", "[log]") {
  const std::string console = format_console_line({at(), Level::kInfo, "fleetd", "first\nsecond \"quoted\"", nullptr});
  CHECK(console == "15:07:41.123 INFO  fleetd  first\\nsecond \"quoted\"\n");
  const nlohmann::json bad = {{"v", std::string("a\xff")}};
  CHECK_NOTHROW(format_console_line({at(), Level::kInfo, "fleetd", "m\xfe", &bad}));
  CHECK_NOTHROW(format_json_line({at(), Level::kInfo, "fleetd", "m\xfe", &bad}));
  CHECK(format_console_line({at(), Level::kInfo, "fleetd", "m", &bad}).find("v=a\xef\xbf\xbd") != std::string::npos);
}

TEST_CASE("log lines: level names parse back, anything else is refused", "[log]") {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) CHECK(parse_level(level_name(l)) == l);
  CHECK_FALSE(parse_level("INFO"));
  CHECK_FALSE(parse_level("verbose"));
}

}  // namespace fleet::log
