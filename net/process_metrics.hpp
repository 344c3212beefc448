#pragma once
// The standard process_* metrics every Prometheus client library exports (CPU seconds, resident and virtual
// memory, open and maximum file descriptors, start time), read from Linux's /proc at scrape time (issue #16).
// The parsers are pure, so the tests feed them fixed /proc text; read_process_stats() is the only I/O.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>

namespace fleet {

// The fields of /proc/self/stat that the metrics need, in the kernel's units (clock ticks, pages).
struct ProcStat {
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::uint64_t start_ticks = 0;  // after boot
  std::uint64_t virtual_bytes = 0;
  std::int64_t resident_pages = 0;
};

struct ProcessStats {
  double cpu_seconds = 0;
  double start_time_seconds = 0;  // Unix time
  double virtual_bytes = 0;
  double resident_bytes = 0;
  std::optional<double> open_fds;
  std::optional<double> max_fds;  // the soft limit; nullopt when unlimited or unknown
};

// One line of /proc/PID/stat. The command name sits in parentheses and may itself hold spaces and parentheses,
// so the fields are counted from its last ')'. nullopt when the text has not the kernel's shape.
std::optional<ProcStat> parse_proc_pid_stat(std::string_view text);
// /proc/stat's "btime N" line: the boot time in Unix seconds.
std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat);
// /proc/PID/limits' "Max open files" soft limit; nullopt when "unlimited" or missing.
std::optional<std::uint64_t> parse_max_open_files(std::string_view limits);
ProcessStats to_process_stats(const ProcStat& stat, long ticks_per_second, long page_size, std::uint64_t boot_time);

// This process's figures from /proc; nullopt where /proc/self/stat cannot be read (then nothing is exported).
std::optional<ProcessStats> read_process_stats();
// The six metrics in the text exposition format (process_cpu_seconds_total is a counter, the rest gauges).
void render_process_metrics(std::ostream& out, const ProcessStats& stats);

}  // namespace fleet
