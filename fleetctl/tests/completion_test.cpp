// Shell completion and "did you mean" (issue #16 item 5), as golden output: what `fleetctl __complete` answers
// for a command line, and what a mistyped command or flag prints. The scripts themselves are sourced in bash, zsh
// and fish by fleetctl/tests/completion_shells_test.sh.
#include <catch2/catch.hpp>

#include "fleetctl/completion.hpp"
#include "fleetctl/help_examples.hpp"
#include "fleetctl/suggest.hpp"
#include "fleetctl/tests/test_support.hpp"

namespace fleet::ctl {
using testing::Harness;
using testing::json_response;
using testing::SeenRequest;

namespace {

// The candidates' words, one a line, without descriptions.
std::string words_of(const std::string& completion_output) {
  std::string out;
  std::size_t at = 0;
  while (at < completion_output.size()) {
    const auto end = completion_output.find('\n', at);
    const std::string line = completion_output.substr(at, end - at);
    out += line.substr(0, line.find('\t')) + "\n";
    at = end + 1;
  }
  return out;
}

Harness fleet_with_clusters() {
  return Harness([](const SeenRequest& req) {
    if (req.target.starts_with("/v1/clusters?")) {
      return json_response(200, R"({"items":[{"name":"east-1"},{"name":"east-2"},{"name":"west-1"}]})");
    }
    if (req.target.starts_with("/v1/rollouts?")) return json_response(200, R"({"items":[{"name":"k8s-1-31"}]})");
    return json_response(404, R"({"title":"not found"})");
  });
}

}  // namespace

TEST_CASE("completion: commands, subcommands, flags and flag values", "[fleetctl][completion]") {
  Harness h;
  auto r = h.run({"__complete", "get", "cl"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "clusters\tList clusters, or show one by name\n");
  CHECK(r.err.empty());

  CHECK(words_of(h.run({"__complete", "ro"}).out) == "rollout\n");
  CHECK(words_of(h.run({"__complete", "config", ""}).out) ==
        "view\nget-contexts\ncurrent-context\nuse-context\nset-context\n");
  // Aliases lead the way (get cluster = get clusters) but are not offered.
  CHECK(words_of(h.run({"__complete", "describe", "cl"}).out) == "cluster\n");
  // Flags: the command's own and its parents'; values from the command's list of choices.
  CHECK(words_of(h.run({"__complete", "get", "clusters", "--no"}).out) == "--no-headers\n");
  CHECK(words_of(h.run({"__complete", "get", "clusters", "--con"}).out) == "--config\n--context\n");
  CHECK(words_of(h.run({"__complete", "version", "-o", ""}).out) == "json\nyaml\n");
  CHECK(words_of(h.run({"__complete", "completion", ""}).out).empty());  // a positional with choices: none offered
  // A file: the shell completes paths.
  CHECK(h.run({"__complete", "apply", "-f", ""}).out == ":files\n");
  CHECK(h.run({"__complete", "--config", ""}).out == ":files\n");
  // After a typo nothing sensible follows.
  CHECK(h.run({"__complete", "gte", "cl"}).out.empty());
}

TEST_CASE("completion: resource names come from the server with the connection flags typed", "[fleetctl][completion]") {
  auto h = fleet_with_clusters();
  const std::vector<std::string> server = {"--server", "http://fleet.test:8080", "--token", "secret"};
  auto with = [&](std::vector<std::string> words) {
    words.insert(words.begin(), server.begin(), server.end());
    words.insert(words.begin(), "__complete");
    return h.run(words);
  };
  auto r = with({"get", "clusters", "ea"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "east-1\neast-2\n");
  CHECK(r.err.empty());  // --token's warning stays off the shell's line
  CHECK(with({"describe", "cluster", ""}).out == "east-1\neast-2\nwest-1\n");
  CHECK(with({"rollout", "status", "k"}).out == "k8s-1-31\n");
  // A new name is not completed; neither is a second argument.
  CHECK(with({"create", "cluster", ""}).out.empty());
  CHECK(with({"describe", "cluster", "east-1", ""}).out.empty());
  // No server: no names, and no error on the shell's line.
  Harness offline;
  r = offline.run({"__complete", "get", "clusters", ""});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
}

TEST_CASE("completion: the scripts for bash, zsh and fish", "[fleetctl][completion]") {
  Harness h;
  for (const char* shell : {"bash", "zsh", "fish"}) {
    INFO(shell);
    auto r = h.run({"completion", shell});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == *completion_script(shell));
    CHECK_THAT(r.out, Catch::Contains("__complete"));
  }
  CHECK_THAT(*completion_script("bash"), Catch::EndsWith("complete -F _fleetctl fleetctl\n"));
  CHECK_THAT(*completion_script("zsh"), Catch::StartsWith("#compdef fleetctl\n"));
  CHECK_THAT(*completion_script("fish"), Catch::EndsWith("complete -c fleetctl -f -a '(__fleetctl_complete)'\n"));
  auto r = h.run({"completion", "powershell"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("powershell not in {bash,zsh,fish}"));
}

TEST_CASE("did you mean: edit distance counts a swap of neighbours as one typo", "[fleetctl][suggest]") {
  CHECK(edit_distance("gte", "get") == 1);
  CHECK(edit_distance("clustres", "clusters") == 1);
  CHECK(edit_distance("", "get") == 3);
  CHECK(edit_distance("delete", "delete") == 0);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(close_matches("gte", {"get", "describe", "delete"}) == std::vector<std::string>{"get"});
  CHECK(close_matches("clu", {"clusters", "cluster", "nodes"}) == std::vector<std::string>{"cluster", "clusters"});
  CHECK(close_matches("x", {"y", "get"}).empty());
  CHECK(close_matches("clus", {"gpus", "cluster", "clusters"}) == std::vector<std::string>{"cluster", "clusters"});
}

TEST_CASE("did you mean: a mistyped command or flag gets its likely meaning", "[fleetctl][suggest]") {
  Harness h;
  auto r = h.run({"gte", "clusters"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "error: unknown command \"gte\" for \"fleetctl\"\n"
        "\n"
        "Did you mean this?\n"
        "\tget\n"
        "\n"
        "Run 'fleetctl --help' for usage.\n");

  r = h.run({"get", "clustrs"});
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "error: unknown command \"clustrs\" for \"fleetctl get\"\n"
        "\n"
        "Did you mean one of these?\n"
        "\tclusters\n"
        "\tcluster\n"
        "\n"
        "Run 'fleetctl get --help' for usage.\n");

  r = h.run({"get", "clusters", "--sever", "http://x"});
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "error: unknown flag \"--sever\" for \"fleetctl get clusters\"\n"
        "\n"
        "Did you mean this?\n"
        "\t--server\n"
        "\n"
        "Run 'fleetctl get clusters --help' for usage.\n");

  // Nothing close: still where to look.
  r = h.run({"frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "error: unknown command \"frobnicate\" for \"fleetctl\"\nRun 'fleetctl --help' for usage.\n");
  // Other mistakes keep the parser's own words.
  r = h.run({"get", "clusters", "a", "b"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("The following argument was not expected: b"));
}

TEST_CASE("--help: every command ends with examples", "[fleetctl][help]") {
  Harness h;
  auto r = h.run({"get", "nodes", "--help"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::EndsWith("\n\nExamples:\n"
                                    "  fleetctl get nodes\n"
                                    "  fleetctl get nodes --cluster gpu-east-1 -o wide\n"
                                    "  fleetctl get nodes --no-headers | wc -l\n"));
  // The table covers the whole tree, walked through `__complete`: a command added without examples fails here.
  std::vector<std::string> missing;
  std::vector<std::string> paths = {""};
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (help_examples(paths[i]).empty()) missing.push_back(paths[i].empty() ? "fleetctl" : paths[i]);
    std::vector<std::string> words;
    for (std::size_t at = 0, end = 0; at < paths[i].size(); at = end + 1) {
      end = std::min(paths[i].find(' ', at), paths[i].size());
      words.push_back(paths[i].substr(at, end - at));
    }
    words.insert(words.begin(), "__complete");
    words.emplace_back("");
    const std::string children = h.run(words).out;
    for (std::size_t at = 0; at < children.size();) {
      const auto end = children.find('\n', at);
      const std::string child = children.substr(at, children.find('\t', at) - at);
      at = end + 1;
      if (child == ":files" || child.starts_with("-")) continue;
      paths.push_back(paths[i].empty() ? child : paths[i] + " " + child);
    }
  }
  CHECK(paths.size() > 50);
  INFO("commands without examples: " << Catch::Detail::stringify(missing));
  CHECK(missing.empty());
}

}  // namespace fleet::ctl
