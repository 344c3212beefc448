// The GCC driver of the fuzz harnesses (fuzz/README.md): replays a seed corpus, then mutates it at random for a
// few seconds. No coverage guidance (that is libFuzzer's part, scripts/fuzz); what it gives the test command is
// every harness run on every seed and on thousands of near-misses of them, on every build.
//   fleet_fuzz HARNESS CORPUS_DIR [--seconds S] [--seed N]     fleet_fuzz --list
// Exit 0: no crash. On a crash (an abort, a signal or an exception) the input is written to
// fleet-fuzz-crash-HARNESS in the working directory and the exit status is 1.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

constexpr std::size_t kMaxInputBytes = 64 * 1024;  // as scripts/fuzz's -max_len

// The input being run, for the signal handler; and where to write it.
std::string current_input;
char crash_path[512];

void write_crash_input() {
  const int fd = ::open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  const char* p = current_input.data();
  std::size_t left = current_input.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::close(fd);
}

void on_fatal_signal(int signal) {
  write_crash_input();  // open/write/close are async-signal-safe
  static const char message[] = "fleet_fuzz: crash; the input is in the crash file named at start\n";
  (void)!::write(2, message, sizeof message - 1);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

// Fragments that move a decoder past its first checks: JSON structure and edge values, HTTP framing, YAML.
const std::vector<std::string>& dictionary() {
  static const std::vector<std::string> words = {"{",
                                                 "}",
                                                 "[",
                                                 "]",
                                                 "\"",
                                                 ":",
                                                 ",",
                                                 "null",
                                                 "true",
                                                 "false",
                                                 "0",
                                                 "-1",
                                                 "1e999",
                                                 "-0",
                                                 "18446744073709551616",
                                                 "9223372036854775808",
                                                 "0.5",
                                                 "\"\"",
                                                 "\\u0000",
                                                 "\\ud800",
                                                 "\xc3\x28",
                                                 "\xff",
                                                 "\xe2\x82\xac",
                                                 "{}",
                                                 "[]",
                                                 "\r\n",
                                                 "\r\n\r\n",
                                                 "Content-Length: ",
                                                 "Transfer-Encoding: chunked\r\n",
                                                 "0\r\n\r\n",
                                                 "Host: x\r\n",
                                                 "Authorization: Bearer x\r\n",
                                                 "GET / HTTP/1.1\r\n",
                                                 "POST /v1/agents/heartbeat HTTP/1.1\r\n",
                                                 "%FF",
                                                 "%00",
                                                 "- ",
                                                 ": ",
                                                 "\n  ",
                                                 "&a",
                                                 "*a",
                                                 "!!binary ",
                                                 "---\n",
                                                 "in (",
                                                 "notin (",
                                                 "!",
                                                 "==",
                                                 "!=",
                                                 ")",
                                                 "=",
                                                 ","};
  return words;
}

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : rng_(seed) {}

  std::string mutate(const std::vector<std::string>& corpus) {
    std::string s = corpus[pick(corpus.size())];
    const std::size_t rounds = 1 + pick(8);
    for (std::size_t i = 0; i < rounds; ++i) step(s, corpus);
    if (s.size() > kMaxInputBytes) s.resize(kMaxInputBytes);
    return s;
  }

 private:
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  char byte() { return static_cast<char>(pick(256)); }

  void step(std::string& s, const std::vector<std::string>& corpus) {
    const std::size_t at = pick(s.size() + 1);
    switch (pick(8)) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
        break;
      case 1:  // set a byte
        if (!s.empty()) s[pick(s.size())] = byte();
        break;
      case 2:  // insert bytes
        s.insert(at, 1 + pick(4), byte());
        break;
      case 3:  // erase a range
        if (!s.empty()) s.erase(pick(s.size()), 1 + pick(std::min<std::size_t>(s.size(), 16)));
        break;
      case 4:  // duplicate a range (deep nesting, repeated members)
        if (!s.empty()) {
          const std::size_t from = pick(s.size());
          const std::string piece = s.substr(from, 1 + pick(std::min<std::size_t>(s.size() - from, 64)));
          for (std::size_t n = 1 + pick(4); n > 0; --n) s.insert(at, piece);
        }
        break;
      case 5:  // insert a dictionary word
      case 6: {
        const auto& words = dictionary();
        s.insert(at, words[pick(words.size())]);
        break;
      }
      default: {  // splice in part of another seed
        const std::string& other = corpus[pick(corpus.size())];
        if (other.empty()) break;
        const std::size_t from = pick(other.size());
        s.insert(at, other.substr(from, 1 + pick(other.size() - from)));
      }
    }
  }

  std::mt19937_64 rng_;
};

std::vector<std::string> read_corpus(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.file_size() <= kMaxInputBytes) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());  // the same order every run, so a seed reproduces
  std::vector<std::string> corpus;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return corpus;
}

bool run_one(fleet::fuzz::Harness harness, std::string input) {
  current_input = std::move(input);
  try {
    harness(current_input);
    return true;
  } catch (const std::exception& e) {
    std::cerr << "fleet_fuzz: the harness threw: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "fleet_fuzz: the harness threw something that is not a std::exception\n";
  }
  write_crash_input();
  return false;
}

int usage() {
  std::cerr << "usage: fleet_fuzz HARNESS CORPUS_DIR [--seconds S] [--seed N]\n       fleet_fuzz --list\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const auto& all = fleet::fuzz::harnesses();
  if (argc == 2 && std::string_view(argv[1]) == "--list") {
    for (const auto& [name, harness] : all) std::cout << name << "\n";
    return 0;
  }
  if (argc < 3) return usage();
  const std::string name = argv[1];
  const std::filesystem::path corpus_dir = argv[2];
  double seconds = 3;
  std::uint64_t seed = 1;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    try {
      if (flag == "--seconds") {
        seconds = std::stod(argv[i + 1]);
      } else if (flag == "--seed") {
        seed = std::stoull(argv[i + 1]);
      } else {
        return usage();
      }
    } catch (const std::exception&) {
      return usage();
    }
  }
  if ((argc - 3) % 2 != 0) return usage();
  const auto found = all.find(name);
  if (found == all.end()) {
    std::cerr << "fleet_fuzz: no harness \"" << name << "\" (--list names them)\n";
    return 2;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(corpus_dir, ec)) {
    std::cerr << "fleet_fuzz: " << corpus_dir << " is not a directory\n";
    return 2;
  }
  fleet::log::set_min_level(fleet::log::Level::kError);  // decoders that log would drown the report
  std::snprintf(crash_path, sizeof crash_path, "fleet-fuzz-crash-%s", name.c_str());
  for (int s : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(s, on_fatal_signal);
  std::cout << "fleet_fuzz " << name << ": crash file " << std::filesystem::absolute(crash_path).string() << "\n";

  const auto corpus = read_corpus(corpus_dir);
  if (corpus.empty()) {
    std::cerr << "fleet_fuzz: no seeds in " << corpus_dir << "\n";
    return 2;
  }
  for (const auto& seed_input : corpus) {
    if (!run_one(found->second, seed_input)) return 1;
  }
  Mutator mutator(seed);
  std::uint64_t runs = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 64; ++i, ++runs) {
      if (!run_one(found->second, mutator.mutate(corpus))) {
        std::cerr << "fleet_fuzz " << name << ": crash after " << runs << " mutated inputs (--seed " << seed << ")\n";
        return 1;
      }
    }
  }
  std::cout << "fleet_fuzz " << name << ": " << corpus.size() << " seeds and " << runs << " mutated inputs in "
            << seconds << " s, no crash\n";
  return 0;
}
