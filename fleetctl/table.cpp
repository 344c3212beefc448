#include "fleetctl/table.hpp"

#include <algorithm>

namespace fleet::ctl {
namespace {

constexpr std::size_t kColumnGap = 3;

std::size_t display_width(const std::string& s) {
  // UTF-8 continuation bytes (10xxxxxx) do not start a new character.
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string sanitize(const std::string& cell) {
  std::string out = cell;
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

}  // namespace

std::string render_table(const TableRow& header, const std::vector<TableRow>& rows) {
  const std::size_t columns = header.size();
  std::vector<TableRow> lines;
  lines.reserve(rows.size() + 1);
  lines.push_back(header);
  for (const auto& row : rows) {
    TableRow line(columns);
    for (std::size_t i = 0; i < columns && i < row.size(); ++i) line[i] = sanitize(row[i]);
    lines.push_back(std::move(line));
  }
  std::vector<std::size_t> widths(columns, 0);
  for (const auto& line : lines) {
    for (std::size_t i = 0; i < columns; ++i) widths[i] = std::max(widths[i], display_width(line[i]));
  }
  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (std::size_t i = 0; i < columns; ++i) {
      text += line[i];
      if (i + 1 < columns) text.append(widths[i] - display_width(line[i]) + kColumnGap, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  }
  return out;
}

}  // namespace fleet::ctl
