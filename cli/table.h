// Text tables that line up: every column as wide as its widest cell (header included), numbers
// right-aligned, text left-aligned, two spaces between columns, a rule of dashes under the
// header. A header may take several lines ("SSL_write\ncalls"); its lines align like the cells.
//
//   strategy          passes  SSL_write
//   ----------------  ------  ---------
//   gather+A1+A2+A3     4720       8020
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace emitlab::cli {

enum class Align { Left, Right };

struct Column {
  std::string header;  // lines separated by '\n'
  Align align = Align::Left;
};

class TextTable {
 public:
  explicit TextTable(std::vector<Column> columns);
  // One cell per column (checked: a row of another length is a programming error).
  void add_row(std::vector<std::string> cells);
  std::size_t rows() const { return rows_.size(); }
  // Prints `title` on its own line (when not empty), the header, the rule and the rows.
  void print(std::ostream& out, const std::string& title = {}) const;

 private:
  std::vector<std::size_t> widths() const;
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> header_lines_;  // per column, top-padded to one height
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace emitlab::cli
