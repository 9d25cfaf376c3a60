#include "cli/report.h"

#include <string>
#include <utility>

#include "cli/table.h"
#include "core/byte_size.h"
#include "core/mutant.h"

namespace emitlab::cli {
bool good(const sim::Summary& s) {
  return s.failure.empty() && s.responses_failed == 0;
}

namespace {

void print_tables(std::ostream& out, const std::vector<sim::Summary>& runs, const View& view,
                  const std::vector<PromiseCells>* promises, const std::string& first) {
  const auto fields = chosen_fields(view);
  bool first_table = true;
  for (Group g : kTableGroups) {
    std::vector<Column> columns{{"strategy", Align::Left}};
    std::vector<ColumnText> texts;
    for (const Field* f : fields) {
      if (f->group != g) continue;
      texts.push_back(column_text(*f, runs));
      columns.push_back({texts.back().header, texts.back().numeric ? Align::Right : Align::Left});
    }
    // The promise columns stand with the wire they are about.
    const bool with_promises = promises != nullptr && g == Group::Wire;
    if (with_promises) {
      columns.push_back({"app stream\n= " + first, Align::Left});
      columns.push_back({"promised\nciphertext", Align::Left});
    }
    if (texts.empty() && !with_promises) continue;
    TextTable table(std::move(columns));
    for (std::size_t r = 0; r < runs.size(); ++r) {
      std::vector<std::string> row{runs[r].strategy};
      for (const auto& t : texts) row.push_back(t.cells[r]);
      if (with_promises) {
        row.push_back((*promises)[r].app_equals_first);
        row.push_back((*promises)[r].wire_promises);
      }
      table.add_row(std::move(row));
    }
    if (!first_table) out << '\n';
    first_table = false;
    table.print(out, heading(g));
  }
}

void print_failures(std::ostream& out, const std::vector<sim::Summary>& runs) {
  for (const auto& s : runs) {
    if (s.interrupted) {
      out << s.strategy << ": INTERRUPTED: " << s.failure << " (the figures are of what ran)\n";
      continue;
    }
    if (!s.failure.empty()) out << s.strategy << ": FAILED: " << s.failure << '\n';
    if (s.failure.empty() && s.responses_failed != 0) {
      out << s.strategy << ": FAILED: " << s.responses_failed << " responses failed\n";
    }
  }
}

}  // namespace

nlohmann::json to_json(const PairVerdict& p) {
  return {{"a", p.a},
          {"b", p.b},
          {"app_equal", p.app_equal},
          {"wire_equal", p.wire_equal},
          {"app_promised", p.app_promised},
          {"wire_promised", p.wire_promised}};
}

std::string describe(const sim::Scenario& s) {
  const auto& w = s.workload;
  auto size = [](std::uint64_t b) { return byte_size_text(b) + (b < 1024 ? " B" : ""); };
  const std::string body =
      w.body.min == w.body.max ? size(w.body.min) : size(w.body.min) + ".." + size(w.body.max);
  const bool in_turn = w.open_connections != 0 && w.open_connections < w.connections;
  return "c=" + std::to_string(w.connections) +
         (in_turn ? " (" + std::to_string(w.open_connections) + " open at once)" : "") +
         " m=" + std::to_string(w.concurrency) + " n=" + std::to_string(w.requests) + ", " + body +
         " bodies, " + std::string(sim::to_string(w.pacing)) +
         (s.input_independent() ? " (input-independent)" : " (timing-dependent)") + ", seed " +
         std::to_string(s.seed) +
         (s.mutant == Mutant::None
              ? std::string()
              : ", mutant " + std::string(to_string(s.mutant)) + " (a fault point armed)");
}

std::vector<PromiseCells> promise_cells(const std::vector<sim::Summary>& runs,
                                        const std::vector<PairVerdict>& pairs) {
  std::vector<PromiseCells> cells;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    PromiseCells c;
    c.app_equals_first = i == 0 ? "-" : "no";
    std::size_t promised = 0;
    std::size_t held = 0;
    for (const auto& p : pairs) {
      const std::string& me = runs[i].strategy;
      if (p.a != me && p.b != me) continue;
      if (p.a == runs.front().strategy && p.b == me && i != 0) {
        c.app_equals_first = p.app_equal ? "yes" : (p.app_promised ? "BROKEN" : "no");
      }
      if (p.wire_promised) {
        ++promised;
        held += p.wire_equal ? 1 : 0;
      }
    }
    const std::string ratio = std::to_string(held) + "/" + std::to_string(promised);
    c.wire_promises =
        promised == 0 ? "none" : (held == promised ? ratio + " held" : "BROKEN " + ratio);
    cells.push_back(std::move(c));
  }
  return cells;
}

void print_replay_lines(std::ostream& out, const std::vector<sim::Summary>& runs, bool all) {
  for (const auto& s : runs) {
    if (all || !good(s)) out << "replay " << s.strategy << ": emitlab replay " << s.replay << '\n';
  }
}

void print_summary(std::ostream& out, const sim::Summary& s, const View& view,
                   const std::string& context) {
  out << "run: " << context << "\n\n";
  print_tables(out, {s}, view, nullptr, {});
  print_failures(out, {s});
  print_replay_lines(out, {s}, view.show_replay);
}

void print_comparison(std::ostream& out, const std::vector<sim::Summary>& runs,
                      const std::vector<PairVerdict>& pairs, const View& view,
                      const std::string& context) {
  out << "compare: " << context << "\n\n";
  const auto cells = promise_cells(runs, pairs);
  print_tables(out, runs, view, &cells, runs.front().strategy);
  out << '\n';
  std::size_t app_promised = 0, app_held = 0, wire_promised = 0, wire_held = 0;
  for (const auto& p : pairs) {
    app_promised += p.app_promised ? 1 : 0;
    app_held += p.app_promised && p.app_equal ? 1 : 0;
    wire_promised += p.wire_promised ? 1 : 0;
    wire_held += p.wire_promised && p.wire_equal ? 1 : 0;
    if (p.broken() || view.wide) {
      auto say = [](bool equal, bool promised) {
        return std::string(equal ? "identical" : "different") +
               (promised ? " (promised)" : " (not promised)") +
               (promised && !equal ? "  BROKEN PROMISE" : "");
      };
      out << p.a << " vs " << p.b << ": application stream " << say(p.app_equal, p.app_promised)
          << "; ciphertext " << say(p.wire_equal, p.wire_promised) << '\n';
    }
  }
  out << pairs.size() << " pairs: equal application streams " << app_held << "/" << app_promised
      << " promised held; equal ciphertext " << wire_held << "/" << wire_promised
      << " promised held\n";
  print_failures(out, runs);
  // A broken promise names two runs: both replay lines reproduce it.
  for (const auto& s : runs) {
    bool in_broken_pair = false;
    for (const auto& p : pairs)
      in_broken_pair |= p.broken() && (p.a == s.strategy || p.b == s.strategy);
    if (view.show_replay || !good(s) || in_broken_pair) print_replay_lines(out, {s}, true);
  }
}

}  // namespace emitlab::cli
