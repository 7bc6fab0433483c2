#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ward::cli {

/// A table as wardctl prints it: a heading row, then one row per entry, every column as
/// wide as its widest cell and two spaces apart, so that no value ever runs into the next
/// one; the last column is not padded.
class text_table {
public:
  explicit text_table(std::vector<std::string> headings);

  /// Adds a row; missing cells print empty, cells beyond the headings are dropped.
  void add(std::vector<std::string> cells);
  void print(std::ostream& out) const;

private:
  std::vector<std::vector<std::string>> rows_;
};

} // namespace ward::cli
