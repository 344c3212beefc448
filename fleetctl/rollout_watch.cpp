#include "fleetctl/rollout_watch.hpp"

namespace fleet::ctl {
namespace {

// Column widths move when one cell grows; a line whose words did not change has not changed.
std::string words_of(const std::string& line) {
  std::string out;
  bool space = false;
  for (char c : line) {
    if (c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

void WatchWriter::write(const std::vector<StatusLine>& frame) {
  if (tty_) {
    // Back to the first line of the previous frame, then clear everything below before drawing this one.
    if (drawn_lines_ > 0) out_ << "\x1b[" << drawn_lines_ << "A\r\x1b[J";
    for (const auto& line : frame) out_ << line.text << "\n";
    drawn_lines_ = frame.size();
  } else {
    for (const auto& line : frame) {
      auto words = words_of(line.text);
      auto it = shown_.find(line.key);
      if (it != shown_.end() && it->second == words) continue;
      out_ << line.text << "\n";
      shown_[line.key] = std::move(words);
    }
  }
  out_.flush();
}

}  // namespace fleet::ctl
