#include "cli/table.h"

#include <algorithm>
#include <stdexcept>

namespace emitlab::cli {
namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) return lines;
    start = nl + 1;
  }
}

void cell(std::string& out, const std::string& text, std::size_t width, Align align) {
  const std::size_t fill = width - text.size();
  if (align == Align::Right) out.append(fill, ' ');
  out += text;
  if (align == Align::Left) out.append(fill, ' ');
}

}  // namespace

TextTable::TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {
  std::size_t height = 0;
  for (const auto& c : columns_) {
    header_lines_.push_back(split_lines(c.header));
    height = std::max(height, header_lines_.back().size());
  }
  // Short headers sit on the bottom line, next to the rule.
  for (auto& lines : header_lines_) lines.insert(lines.begin(), height - lines.size(), "");
}

void TextTable::add_row(std::vector<std::string> cells) {
  if (cells.size() != columns_.size()) {
    throw std::logic_error("table row of " + std::to_string(cells.size()) + " cells for " +
                           std::to_string(columns_.size()) + " columns");
  }
  rows_.push_back(std::move(cells));
}

std::vector<std::size_t> TextTable::widths() const {
  std::vector<std::size_t> w(columns_.size(), 0);
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    for (const auto& line : header_lines_[i]) w[i] = std::max(w[i], line.size());
    for (const auto& row : rows_) w[i] = std::max(w[i], row[i].size());
  }
  return w;
}

void TextTable::print(std::ostream& out, const std::string& title) const {
  if (!title.empty()) out << title << '\n';
  const auto w = widths();
  const std::size_t n = columns_.size();
  auto line = [&](auto&& text_of) {
    std::string row;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) row += "  ";
      cell(row, text_of(i), w[i], columns_[i].align);
    }
    row.erase(row.find_last_not_of(' ') + 1);  // no trailing blanks
    out << row << '\n';
  };
  const std::size_t height = header_lines_.empty() ? 0 : header_lines_.front().size();
  for (std::size_t h = 0; h < height; ++h) {
    line([&](std::size_t i) -> const std::string& { return header_lines_[i][h]; });
  }
  std::vector<std::string> rule(n);
  for (std::size_t i = 0; i < n; ++i) rule[i] = std::string(w[i], '-');
  line([&](std::size_t i) -> const std::string& { return rule[i]; });
  for (const auto& row : rows_) line([&](std::size_t i) -> const std::string& { return row[i]; });
}

}  // namespace emitlab::cli
