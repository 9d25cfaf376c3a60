// Text and JSON forms of run summaries and strategy comparisons. The figures and their JSON
// come from cli/fields.h; this file lays them out.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

#include "cli/fields.h"
#include "core/strategy.h"
#include "sim/scenario.h"
#include "sim/summary.h"

namespace emitlab::cli {

struct PairVerdict {
  std::string a;
  std::string b;
  bool app_equal = false;
  bool wire_equal = false;
  bool app_promised = false;
  bool wire_promised = false;
  bool broken() const { return (app_promised && !app_equal) || (wire_promised && !wire_equal); }
};

nlohmann::json to_json(const PairVerdict& p);

// Every response verified and no connection failed.
bool good(const sim::Summary& s);

// One line naming the workload: connections, concurrency, requests, body, pacing, seed.
std::string describe(const sim::Scenario& s);

// Per strategy, what its pairs say: whether its application stream equals the first run's,
// and how many of the ciphertext equalities promised between it and another run held.
struct PromiseCells {
  std::string app_equals_first;  // "yes", "no", "BROKEN" (promised and different), "-" (first)
  std::string wire_promises;     // "k/n held", "BROKEN k/n", "none"
};
std::vector<PromiseCells> promise_cells(const std::vector<sim::Summary>& runs,
                                        const std::vector<PairVerdict>& pairs);

// The chosen fields under their headings, one table per heading, one row per run; the
// failures and their replay lines (every run's with view.show_replay); for a comparison the
// promise columns, every broken pair and a count of the promises that held.
void print_summary(std::ostream& out, const sim::Summary& s, const View& view,
                   const std::string& context);
void print_comparison(std::ostream& out, const std::vector<sim::Summary>& runs,
                      const std::vector<PairVerdict>& pairs, const View& view,
                      const std::string& context);
// "replay STRATEGY: emitlab replay TOKEN" for the failed runs (every run with `all`).
void print_replay_lines(std::ostream& out, const std::vector<sim::Summary>& runs, bool all);

}  // namespace emitlab::cli
