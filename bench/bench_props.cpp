// self/props/PROPERTY: the property suite's own speed, in cases per CPU second, for every
// property of props/suite.h. One iteration is a fixed batch of cases: each is generated from its
// own seed at a RapidCheck size spread over 0..maxSize as a campaign spreads them (small
// scenarios first), then checked by the property's check exactly as a campaign does (every
// world run it makes, every rule). Generation and checking are both timed: that is what a case
// costs a campaign. Shrinking is not measured (it happens only on a failure).
#include <benchmark/benchmark.h>

#include <string>

#include "bench/suites.h"
#include "props/suite.h"

namespace emitlab::bench {
namespace {

constexpr int kBatch = 10;               // cases per iteration
constexpr std::uint64_t kFirstSeed = 1;  // case i of a batch draws from seed kFirstSeed + i
constexpr int kMaxSize = 100;            // RapidCheck's default maxSize

struct BatchOutcome {
  int cases = 0;
  int discarded = 0;  // the generator gave up (RapidCheck counts these apart, too)
  std::uint64_t world_runs = 0;
  std::string failure;  // the first property failure: a benchmark of a failing suite is void
};

void run_case(const props::PropertyDef& def, int i, BatchOutcome& out) {
  const int size = i * kMaxSize / kBatch;
  props::Case c;
  try {
    c = def.gen()(rc::Random(kFirstSeed + static_cast<std::uint64_t>(i)), size).value();
  } catch (const rc::GenerationFailure&) {
    ++out.discarded;
    return;
  }
  const props::Verdict v = props::check_case(def, c);
  ++out.cases;
  out.world_runs += v.runs.size();
  if (v.finding && out.failure.empty()) {
    out.failure = std::string(def.name) + " fails at seed " +
                  std::to_string(kFirstSeed + static_cast<std::uint64_t>(i)) + " size " +
                  std::to_string(size) + ": " + v.finding->line();
  }
}

void props_benchmark(benchmark::State& state, const props::PropertyDef& def) {
  BatchOutcome total;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) run_case(def, i, total);
    if (!total.failure.empty()) {
      state.SkipWithError(total.failure.c_str());
      return;
    }
  }
  if (total.cases == 0) {
    state.SkipWithError("every generated case was discarded");
    return;
  }
  state.counters["cases_per_second"] =
      benchmark::Counter(static_cast<double>(total.cases), benchmark::Counter::kIsRate);
  state.counters["world_runs_per_second"] =
      benchmark::Counter(static_cast<double>(total.world_runs), benchmark::Counter::kIsRate);
  state.counters["world_runs_per_case"] =
      static_cast<double>(total.world_runs) / static_cast<double>(total.cases);
  state.counters["discarded_per_case"] =
      static_cast<double>(total.discarded) / static_cast<double>(total.cases);
}

}  // namespace

void register_props(Scale) {
  for (const props::PropertyDef& def : props::suite_properties()) {
    const std::string name = std::string("self/props/") + def.name;
    benchmark::RegisterBenchmark(name.c_str(), [&def](benchmark::State& s) {
      props_benchmark(s, def);
    })->Unit(benchmark::kMillisecond);
  }
}

}  // namespace emitlab::bench
