#pragma once
// kubectl-style tables: upper-case headers, each column as wide as its widest cell, at least three spaces between
// columns, no trailing spaces.
#include <string>
#include <vector>

namespace fleet::ctl {

using TableRow = std::vector<std::string>;

// Rows shorter than the header are padded with empty cells; cells are made single-line (control characters from
// the server become '?') so one object is always one line. Widths count UTF-8 code points, not bytes.
std::string render_table(const TableRow& header, const std::vector<TableRow>& rows);

// What kubectl shows for an empty value.
inline constexpr const char* kNone = "<none>";

}  // namespace fleet::ctl
