#pragma once
// The AGE column: kubectl's short human durations ("5s", "3m", "2h", "4d", "2y"). "now" is always passed in so
// output is testable.
#include <chrono>
#include <string>

namespace fleet::ctl {

std::string format_age(std::chrono::system_clock::duration age);

// Age of an RFC 3339 timestamp at `now`; "<unknown>" when it does not parse (the server's problem, not a crash).
std::string age_of(const std::string& timestamp, std::chrono::system_clock::time_point now);

}  // namespace fleet::ctl
