#include "fleetctl/watch.hpp"

#include <chrono>
#include <map>
#include <sstream>

#include "fleetctl/exit_codes.hpp"
#include "fleetctl/rollout_watch.hpp"

namespace fleet::ctl {
namespace {

constexpr std::chrono::milliseconds kWatchInterval{2000};
constexpr int kWatchMaxConsecutiveErrors = 5;

}  // namespace

std::vector<StatusLine> watch_lines(const std::string& text, WatchLayout layout) {
  std::vector<StatusLine> lines;
  std::map<std::string, int> seen;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::string key;
    if (layout == WatchLayout::kRows) {
      const auto start = line.find_first_not_of(' ');
      const std::string first = start == std::string::npos ? "" : line.substr(start, line.find(' ', start) - start);
      key = first + "#" + std::to_string(seen[first]++);
    } else {
      key = std::to_string(lines.size());
    }
    lines.push_back({std::move(key), std::move(line)});
  }
  return lines;
}

int watch_command(Session& session, const std::function<int(Session&)>& render, WatchLayout layout) {
  WatchWriter writer(session.out(), session.stdout_is_tty());
  std::string last_out, last_err;
  bool drawn = false;
  int errors_in_a_row = 0;
  while (true) {
    std::ostringstream out, err;
    session.capture(&out, &err);
    const int rc = render(session);
    session.capture(nullptr, nullptr);
    if (rc != 0) {
      if (rc != to_int(ExitCode::kServer) || ++errors_in_a_row >= kWatchMaxConsecutiveErrors) {
        session.err() << err.str();
        return rc;
      }
      std::string line = err.str();
      if (line.starts_with("error: ")) line.erase(0, 7);
      while (!line.empty() && line.back() == '\n') line.pop_back();
      session.err() << "warning: " << line << "; retrying\n";
    } else {
      errors_in_a_row = 0;
      if (err.str() != last_err) session.err() << err.str();  // "No resources found." once, not every 2 s
      last_err = err.str();
      if (!drawn || out.str() != last_out) {
        if (layout == WatchLayout::kFrame && !session.stdout_is_tty()) {
          session.out() << out.str();
          session.out().flush();
        } else {
          writer.write(watch_lines(out.str(), layout));
        }
        last_out = out.str();
        drawn = true;
      }
    }
    if (session.interrupted()) return to_int(ExitCode::kOk);
    session.sleep_for(kWatchInterval);
    if (session.interrupted()) return to_int(ExitCode::kOk);
  }
}

}  // namespace fleet::ctl
