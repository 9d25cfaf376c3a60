// Text and JSON forms of run summaries and strategy comparisons.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <vector>

#include "core/strategy.h"
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

// Every deterministic figure, plus "host": {cpu_seconds, responses_per_cpu_second}, the one
// part that measures the machine rather than the run.
nlohmann::json to_json(const sim::Summary& s);
nlohmann::json to_json(const PairVerdict& p);
void print_summary(std::ostream& out, const sim::Summary& s);
void print_comparison(std::ostream& out, const std::vector<sim::Summary>& runs,
                      const std::vector<PairVerdict>& pairs);

}  // namespace emitlab::cli
