// The text of demo, compare and run as a user reads it: under every rule of dashes, each
// row's characters stay inside the rule's column spans (no cell overflows into the gap), each
// column is as wide as its widest cell, and a column of numbers is right-aligned with one
// precision. Strategy names of every shape the grammar allows come from `strategies --json`.
#define BOOST_TEST_MODULE text_layout
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "support/shell.h"

namespace {

std::string cli(const std::string& args) {
  const auto r = emitlab::testing::shell(std::string(EMITLAB_CLI) + " " + args + " 2>&1");
  BOOST_TEST(r.status == 0, args << "\n" << r.out);
  return r.out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

bool is_rule(const std::string& l) {
  return l.find('-') != std::string::npos && l.find_first_not_of("- ") == std::string::npos &&
         l.front() == '-';
}

bool numeric(const std::string& cell) {
  return !cell.empty() && cell.find_first_not_of("0123456789.%") == std::string::npos;
}

std::size_t decimals(const std::string& cell) {
  const auto dot = cell.find('.');
  return dot == std::string::npos ? 0 : cell.size() - dot - 1;
}

// Checks every table of `text`; returns how many it found.
std::size_t check_tables(const std::string& text, const std::string& what) {
  const auto lines = split(text);
  std::size_t tables = 0;
  for (std::size_t r = 0; r < lines.size(); ++r) {
    if (!is_rule(lines[r])) continue;
    ++tables;
    const std::string& rule = lines[r];
    std::vector<std::pair<std::size_t, std::size_t>> spans;  // [begin, end)
    for (std::size_t i = 0; i < rule.size();) {
      const std::size_t b = rule.find('-', i);
      if (b == std::string::npos) break;
      const std::size_t e = std::min(rule.find(' ', b), rule.size());
      spans.push_back({b, e});
      i = e;
    }
    // The header lines above the rule (up to the title) and the rows below it.
    std::vector<std::string> header, rows;
    for (std::size_t h = r; h-- > 0 && h + 3 > r;) {
      if (lines[h].find("  ") == std::string::npos) break;  // the title: one cell
      header.push_back(lines[h]);
    }
    for (std::size_t d = r + 1; d < lines.size() && !lines[d].empty(); ++d) {
      rows.push_back(lines[d]);
    }
    BOOST_TEST_CONTEXT(what << ", table at line " << r << ":\n" << rule) {
      BOOST_TEST(!rows.empty());
      std::vector<std::size_t> widest(spans.size(), 0);
      std::vector<std::vector<std::string>> cells(spans.size());
      auto scan = [&](const std::string& line, bool data) {
        BOOST_TEST(line.size() <= rule.size(), "overflows the last column: " << line);
        for (std::size_t c = 0; c < line.size(); ++c) {
          if (line[c] == ' ') continue;
          bool inside = false;
          for (const auto& s : spans) inside = inside || (c >= s.first && c < s.second);
          BOOST_TEST(inside, "character in a gap at column " << c << ": " << line);
        }
        for (std::size_t k = 0; k < spans.size(); ++k) {
          if (spans[k].first >= line.size()) continue;
          std::string cell = line.substr(spans[k].first, spans[k].second - spans[k].first);
          const auto b = cell.find_first_not_of(' ');
          if (b == std::string::npos) continue;
          const auto e = cell.find_last_not_of(' ');
          widest[k] = std::max(widest[k], e - b + 1);
          if (data) cells[k].push_back(cell);
        }
      };
      for (const auto& h : header) scan(h, false);
      for (const auto& d : rows) scan(d, true);
      for (std::size_t k = 0; k < spans.size(); ++k) {
        BOOST_TEST(widest[k] == spans[k].second - spans[k].first,
                   "column " << k << " wider than its widest cell");
        bool all_numeric = !cells[k].empty();
        for (const auto& c : cells[k])
          all_numeric = all_numeric && numeric(c.substr(c.find_first_not_of(' ')));
        if (!all_numeric) continue;
        const std::size_t places =
            decimals(cells[k].front().substr(cells[k].front().find_first_not_of(' ')));
        for (const auto& c : cells[k]) {
          BOOST_TEST(c.back() != ' ', "number not right-aligned: '" << c << "'");
          BOOST_TEST(decimals(c.substr(c.find_first_not_of(' '))) == places,
                     "precision differs in column " << k << ": '" << c << "'");
        }
      }
    }
  }
  return tables;
}

// Every shape of the grammar: each base with every subset of its options, and the parameters
// that apply to it at their longest values.
std::vector<std::string> every_shape() {
  const auto j = nlohmann::json::parse(cli("strategies --json"));
  std::vector<std::string> options, bases;
  for (const auto& e : j["entries"]) {
    if (e["kind"] == "base") bases.push_back(e["name"]);
    if (e["kind"] == "option") options.push_back(e["name"]);
  }
  std::vector<std::string> out;
  for (const auto& base : bases) {
    if (base == "drain") {
      out.push_back(base);
      continue;
    }
    for (std::size_t mask = 0; mask < (1U << options.size()); ++mask) {
      std::string s = base;
      for (std::size_t i = 0; i < options.size(); ++i) {
        if (mask & (1U << i)) s += "+" + options[i];
      }
      out.push_back(s);
      out.push_back(s + "@cap=256K");
      if (base == "hybrid") out.push_back(s + "@cap=64K@threshold=16K");
    }
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(compare_and_run_line_up_for_every_strategy_shape) {
  const auto shapes = every_shape();
  BOOST_TEST(shapes.size() > 30U);
  std::string list;
  for (const auto& s : shapes) list += (list.empty() ? "" : ",") + s;
  const std::string workload = " --streams 20 --body 20000 --quiet";
  BOOST_TEST(check_tables(cli("compare --strategies " + list + workload), "compare") == 6U);
  BOOST_TEST(check_tables(cli("compare --wide --strategies " + list + workload), "wide") == 6U);
  for (const char* one : {"drain", "hybrid+A1+A2+A3@cap=64K@threshold=16K"}) {
    BOOST_TEST(check_tables(cli(std::string("run --wide --strategy ") + one + workload), one) ==
               6U);
  }
}

BOOST_AUTO_TEST_CASE(the_demo_lines_up_and_says_its_verdict) {
  const std::string out = cli("demo --quiet");  // stderr is merged: no progress line
  BOOST_TEST(check_tables(out, "demo") == 2U);
  BOOST_TEST(out.find("10 strategies x 2 workloads: every response verified") != std::string::npos);
  BOOST_TEST(out.find("where they differ most:") != std::string::npos);
  BOOST_TEST(out.find("emitlab explore") != std::string::npos);
}
