#include "cli/comparison.h"

#include "cli/interrupt.h"

namespace emitlab::cli {

bool Comparison::ok() const {
  for (const auto& s : runs) {
    if (!s.failure.empty() || s.responses_failed != 0) return false;
  }
  for (const auto& p : pairs) {
    if (p.broken()) return false;
  }
  return true;
}

Comparison compare_strategies(const std::vector<StrategySpec>& specs, sim::Scenario scenario,
                              const Runner& run) {
  Comparison c;
  for (const auto& spec : specs) {
    if (stop_signal() != 0) break;  // interrupted: report the strategies that ran
    scenario.strategy = spec;
    c.runs.push_back(run(scenario));
  }
  // Only a run whose input cannot depend on timing promises equal application streams.
  c.input_independent = scenario.input_independent();
  for (std::size_t i = 0; i < c.runs.size(); ++i) {
    for (std::size_t j = i + 1; j < c.runs.size(); ++j) {
      if (c.runs[i].interrupted || c.runs[j].interrupted) continue;  // hashes of a part-run
      const auto promise = promise_between(specs[i], specs[j], c.input_independent);
      c.pairs.push_back({c.runs[i].strategy, c.runs[j].strategy,
                         c.runs[i].app_sha256 == c.runs[j].app_sha256,
                         c.runs[i].wire_sha256 == c.runs[j].wire_sha256, promise.same_app_stream,
                         promise.same_wire});
    }
  }
  return c;
}

}  // namespace emitlab::cli
