// Runs strategies on one scenario, each in its own world, and says for every pair whether
// their application streams and ciphertext are equal and whether that was promised.
#pragma once

#include <functional>
#include <vector>

#include "cli/report.h"
#include "core/strategy.h"
#include "sim/scenario.h"
#include "sim/summary.h"

namespace emitlab::cli {

// The strategies `compare` and the demo run by default: every base and the Track A
// combinations the question is about.
inline constexpr const char* kDefaultStrategies =
    "drain,gather,gather+A1,gather+A2,gather+A3,gather+A1+A3,gather+A1+A2+A3,"
    "gather+A1+A2+A3@cap=64K,hybrid,hybrid+A1+A2+A3";

using Runner = std::function<sim::Summary(const sim::Scenario&)>;

struct Comparison {
  std::vector<sim::Summary> runs;  // in the order of the strategies
  std::vector<PairVerdict> pairs;  // (i, j) for i < j
  bool input_independent = false;
  // Every response verified, no connection failed, no promise broken.
  bool ok() const;
};

Comparison compare_strategies(const std::vector<StrategySpec>& specs, sim::Scenario scenario,
                              const Runner& run);

}  // namespace emitlab::cli
