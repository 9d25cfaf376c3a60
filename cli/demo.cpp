#include "cli/demo.h"

#include <algorithm>
#include <string>
#include <vector>

#include "cli/fields.h"
#include "cli/table.h"

namespace emitlab::cli {
namespace {

struct Workload {
  const char* name;
  std::uint64_t body;
  std::uint32_t requests;  // few enough for the whole demo to take seconds
};

constexpr Workload kWorkloads[] = {{"3-byte bodies", 3, 1000}, {"64 KiB bodies", 65536, 320}};

// The demo's columns, by their names in the one field list.
constexpr const char* kColumns[] = {"responses_verified",
                                    "passes",
                                    "ssl_writes",
                                    "tls_records",
                                    "undersized_records",
                                    "write_submissions",
                                    "emitter_allocs_per_pass_mean",
                                    "ref_ops",
                                    "bytes_copied_per_response"};

// Where to look for differences, with the words a line names them by.
struct Candidate {
  const char* key;
  const char* words;
};
constexpr Candidate kCandidates[] = {
    {"emitter_allocs_per_pass_mean", "emitter allocations per pass"},
    {"ref_ops", "reference operations"},
    {"undersized_records", "undersized TLS records"},
    {"bytes_copied_per_response", "bytes copied per response"},
    {"tls_records", "TLS records"},
    {"write_submissions", "write submissions"},
    {"ssl_writes", "SSL_write calls"},
    {"passes", "passes"},
};

sim::Scenario scenario_of(const Workload& w) {
  sim::Scenario s;
  s.workload.connections = 10;
  s.workload.concurrency = 32;
  s.workload.requests = w.requests;
  s.workload.pacing = sim::Pacing::ClosedLoop;
  s.workload.body = {w.body, w.body};
  return s;
}

std::vector<StrategySpec> default_specs() {
  std::vector<StrategySpec> specs;
  const std::string list = kDefaultStrategies;
  std::size_t start = 0;
  while (start < list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    specs.push_back(*parse_strategy(list.substr(start, comma - start)).spec);
    start = comma + 1;
  }
  return specs;
}

void print_table(std::ostream& out, const Workload& w, const sim::Scenario& sc,
                 const Comparison& c) {
  std::vector<Column> columns{{"strategy", Align::Left}};
  std::vector<ColumnText> texts;
  for (const char* key : kColumns) {
    texts.push_back(column_text(*find_field(key), c.runs));
    columns.push_back({texts.back().header, Align::Right});
  }
  columns.push_back({"app stream\n= drain", Align::Left});
  columns.push_back({"promised\nciphertext", Align::Left});
  TextTable table(std::move(columns));
  const auto cells = promise_cells(c.runs, c.pairs);
  for (std::size_t r = 0; r < c.runs.size(); ++r) {
    std::vector<std::string> row{c.runs[r].strategy};
    for (const auto& t : texts) row.push_back(t.cells[r]);
    row.push_back(cells[r].app_equals_first);
    row.push_back(cells[r].wire_promises);
    table.add_row(std::move(row));
  }
  table.print(out, std::string(w.name) + " (" + describe(sc) + ")");
}

std::string names(const std::vector<std::string>& all) {
  if (all.size() <= 2) {
    return all.size() == 1 ? all[0] : all[0] + ", " + all[1];
  }
  return all[0] + " and " + std::to_string(all.size() - 1) + " more";
}

struct Difference {
  double spread = 0;  // (max - min) / max
  std::string line;
};

// For each candidate, the workload where it spreads most; the three widest spreads.
std::vector<std::string> differences(const std::vector<Comparison>& all) {
  std::vector<Difference> found;
  for (const auto& cand : kCandidates) {
    const Field& f = *find_field(cand.key);
    Difference best;
    for (std::size_t w = 0; w < all.size(); ++w) {
      const auto& runs = all[w].runs;
      const ColumnText text = column_text(f, runs);
      std::size_t lo = 0, hi = 0;
      for (std::size_t i = 0; i < runs.size(); ++i) {
        if (f.value(runs[i]).get<double>() < f.value(runs[lo]).get<double>()) lo = i;
        if (f.value(runs[i]).get<double>() > f.value(runs[hi]).get<double>()) hi = i;
      }
      const double min = f.value(runs[lo]).get<double>();
      const double max = f.value(runs[hi]).get<double>();
      if (max <= 0 || (max - min) / max <= best.spread) continue;
      std::vector<std::string> at_min, at_max;
      for (std::size_t i = 0; i < runs.size(); ++i) {
        if (text.cells[i] == text.cells[lo]) at_min.push_back(runs[i].strategy);
        if (text.cells[i] == text.cells[hi]) at_max.push_back(runs[i].strategy);
      }
      std::string ratio;
      if (min > 0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, " (%.1fx)", max / min);
        ratio = buf;
      }
      best = {(max - min) / max, std::string(cand.words) + ", " + kWorkloads[w].name + ": " +
                                     text.cells[lo] + " (" + names(at_min) + ") to " +
                                     text.cells[hi] + " (" + names(at_max) + ")" + ratio};
    }
    if (best.spread > 0) found.push_back(best);
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Difference& a, const Difference& b) { return a.spread > b.spread; });
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < found.size() && i < 3; ++i) lines.push_back(found[i].line);
  return lines;
}

std::string verdict(const std::vector<Comparison>& all) {
  std::size_t strategies = all.front().runs.size();
  std::uint64_t verified = 0, failed = 0, promises = 0, broken = 0;
  std::vector<std::string> problems;
  for (std::size_t w = 0; w < all.size(); ++w) {
    for (const auto& s : all[w].runs) {
      verified += s.responses_verified;
      failed += s.responses_failed;
      if (!s.failure.empty() || s.responses_failed != 0) {
        problems.push_back(s.strategy + " failed on " + kWorkloads[w].name);
      }
    }
    for (const auto& p : all[w].pairs) {
      promises += (p.app_promised ? 1 : 0) + (p.wire_promised ? 1 : 0);
      if (p.broken()) {
        ++broken;
        problems.push_back(p.a + " vs " + p.b + " broke a promise on " + kWorkloads[w].name);
      }
    }
  }
  std::string head =
      std::to_string(strategies) + " strategies x " + std::to_string(all.size()) + " workloads: ";
  if (problems.empty()) {
    return head + "every response verified (" + std::to_string(verified) +
           "), every promise held (" + std::to_string(promises) + " equalities)";
  }
  head +=
      std::to_string(failed) + " responses failed, " + std::to_string(broken) + " promises broken";
  for (const auto& p : problems) head += "; " + p;
  return head;
}

}  // namespace

std::uint64_t demo_requests() {
  std::uint64_t total = 0;
  for (const auto& w : kWorkloads) total += w.requests;
  return total * default_specs().size();
}

int cmd_demo(std::ostream& out, const Runner& run) {
  const auto specs = default_specs();
  std::vector<Comparison> all;
  for (const auto& w : kWorkloads) {
    const sim::Scenario sc = scenario_of(w);
    all.push_back(compare_strategies(specs, sc, run));
    if (all.size() > 1) out << '\n';
    print_table(out, w, sc, all.back());
  }
  out << "\napp stream = drain is promised only on input-independent (lockstep) runs; "
         "ciphertext equality\nis promised between a base and the same base with A1, A2 or A3 "
         "(emitlab strategies).\n\n";
  out << "verdict: " << verdict(all) << '\n';
  out << "where they differ most:\n";
  for (const auto& line : differences(all)) out << "  " << line << '\n';
  bool ok = true;
  for (const auto& c : all) ok = ok && c.ok();
  for (const auto& c : all) {
    for (const auto& s : c.runs) {
      if (!s.failure.empty() || s.responses_failed != 0) {
        out << "replay " << s.strategy << ": emitlab replay " << s.replay << '\n';
      }
    }
  }
  out << "\nnext:\n"
         "  emitlab compare --body 16K --wide            every figure, every pair\n"
         "  emitlab run --strategy gather --show-replay  then: emitlab replay TOKEN\n"
         "  ctest --preset release -L props              the property suite (a minute)\n"
         "  bash scripts/bench.sh --quick                the benchmarks (a few minutes)\n"
         "  emitlab explore --scope shutdown-inflight --strategy gather --bound 1\n"
         "                                               the model checker, every schedule\n"
         "  emitlab serve --listen 127.0.0.1:0           real sockets (h2load, curl, nghttp)\n"
         "  emitlab help COMMAND                         every flag, its range and default\n";
  return ok ? 0 : 1;
}

}  // namespace emitlab::cli
