#include "cli/table.hpp"

#include <algorithm>

namespace ward::cli {
namespace {

/// Terminal columns a UTF-8 cell takes: its code points (continuation bytes do not count).
std::size_t display_width(const std::string& text) {
  return static_cast<std::size_t>(std::ranges::count_if(
      text, [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

} // namespace

text_table::text_table(std::vector<std::string> headings) {
  rows_.push_back(std::move(headings));
}

void text_table::add(std::vector<std::string> cells) {
  cells.resize(rows_.front().size());
  rows_.push_back(std::move(cells));
}

void text_table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(rows_.front().size(), 0);
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i]));
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size())
        line.append(widths[i] - display_width(row[i]) + 2, ' ');
    }
    // A row whose last cells are empty ends at its last value.
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << "\n";
  }
}

} // namespace ward::cli
