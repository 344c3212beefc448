#include "net/process_metrics.hpp"

#include "net/prometheus_number.hpp"

#include <unistd.h>

#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

namespace fleet {
namespace {

template <typename Int>
std::optional<Int> to_int(std::string_view s) {
  Int v{};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<std::string> read_small_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  // /proc files report size 0; read until end, bounded (these are a few hundred bytes to a few KiB).
  std::array<char, 4096> buf{};
  while (text.size() < 64 * 1024 && in.read(buf.data(), buf.size()).gcount() > 0) {
    text.append(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  return text;
}

}  // namespace

std::optional<ProcStat> parse_proc_pid_stat(std::string_view text) {
  const std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // Field 3 (state) is the first after the name; the kernel's field N is fields[N - 3].
  const auto fields = split_spaces(text.substr(close + 1));
  if (fields.size() < 22) return std::nullopt;
  const auto utime = to_int<std::uint64_t>(fields[11]);
  const auto stime = to_int<std::uint64_t>(fields[12]);
  const auto start = to_int<std::uint64_t>(fields[19]);
  const auto vsize = to_int<std::uint64_t>(fields[20]);
  const auto rss = to_int<std::int64_t>(fields[21]);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  return ProcStat{*utime, *stime, *start, *vsize, *rss};
}

std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat) {
  std::size_t at = 0;
  while (at < proc_stat.size()) {
    std::size_t end = proc_stat.find('\n', at);
    if (end == std::string_view::npos) end = proc_stat.size();
    const auto line = split_spaces(proc_stat.substr(at, end - at));
    if (line.size() == 2 && line[0] == "btime") return to_int<std::uint64_t>(line[1]);
    at = end + 1;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_max_open_files(std::string_view limits) {
  constexpr std::string_view kName = "Max open files";
  const std::size_t at = limits.find(kName);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t end = limits.find('\n', at);
  if (end == std::string_view::npos) end = limits.size();
  const auto fields = split_spaces(limits.substr(at + kName.size(), end - at - kName.size()));
  if (fields.empty()) return std::nullopt;
  return to_int<std::uint64_t>(fields[0]);  // "unlimited" is not a number: nullopt
}

ProcessStats to_process_stats(const ProcStat& stat, long ticks_per_second, long page_size, std::uint64_t boot_time) {
  ProcessStats out;
  const double ticks = ticks_per_second > 0 ? static_cast<double>(ticks_per_second) : 100.0;
  out.cpu_seconds = static_cast<double>(stat.utime_ticks + stat.stime_ticks) / ticks;
  out.start_time_seconds = static_cast<double>(boot_time) + static_cast<double>(stat.start_ticks) / ticks;
  out.virtual_bytes = static_cast<double>(stat.virtual_bytes);
  out.resident_bytes = static_cast<double>(stat.resident_pages) * static_cast<double>(page_size);
  return out;
}

std::optional<ProcessStats> read_process_stats() {
  const auto stat_text = read_small_file("/proc/self/stat");
  if (!stat_text) return std::nullopt;
  const auto stat = parse_proc_pid_stat(*stat_text);
  if (!stat) return std::nullopt;
  const auto system_text = read_small_file("/proc/stat");
  const auto boot = system_text ? parse_boot_time(*system_text) : std::nullopt;
  ProcessStats out = to_process_stats(*stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), boot.value_or(0));
  std::error_code ec;
  std::size_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++fds;
  // The directory's own descriptor, open while it is read, is not the process's.
  if (!ec && fds > 0) out.open_fds = static_cast<double>(fds - 1);
  if (const auto limits = read_small_file("/proc/self/limits")) {
    if (const auto max = parse_max_open_files(*limits)) out.max_fds = static_cast<double>(*max);
  }
  return out;
}

void render_process_metrics(std::ostream& out, const ProcessStats& stats) {
  out << "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
      << "# TYPE process_cpu_seconds_total counter\n"
      << "process_cpu_seconds_total " << prometheus_number(stats.cpu_seconds) << "\n"
      << "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
      << "# TYPE process_start_time_seconds gauge\n"
      << "process_start_time_seconds " << prometheus_number(stats.start_time_seconds) << "\n"
      << "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
      << "# TYPE process_virtual_memory_bytes gauge\n"
      << "process_virtual_memory_bytes " << prometheus_number(stats.virtual_bytes) << "\n"
      << "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
      << "# TYPE process_resident_memory_bytes gauge\n"
      << "process_resident_memory_bytes " << prometheus_number(stats.resident_bytes) << "\n";
  if (stats.open_fds) {
    out << "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\n"
        << "process_open_fds " << prometheus_number(*stats.open_fds) << "\n";
  }
  if (stats.max_fds) {
    out << "# HELP process_max_fds Maximum number of open file descriptors.\n# TYPE process_max_fds gauge\n"
        << "process_max_fds " << prometheus_number(*stats.max_fds) << "\n";
  }
}

}  // namespace fleet
