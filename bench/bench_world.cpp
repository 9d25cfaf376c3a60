// self/world/...: the speed of the deterministic world itself (sim/world.h), in simulated
// responses per CPU second: a whole run per iteration (contexts, handshakes, the scheduler, the
// link, the peers' decryption and byte-exact verification, the counting allocator), so this is
// what a property case or a CLI run costs, not the emitter's speed (that is emit/...).
#include <benchmark/benchmark.h>

#include <string>

#include "bench/plan.h"
#include "bench/suites.h"
#include "sim/world.h"

namespace emitlab::bench {
namespace {

struct WorldCase {
  const char* strategy;
  std::uint32_t connections;
  std::uint32_t concurrency;
  std::uint32_t requests;  // in total, over the connections
  std::uint64_t body;
};

sim::Scenario scenario_of(const WorldCase& w) {
  sim::Scenario s;
  s.seed = 1;
  s.strategy = *parse_strategy(w.strategy).spec;
  s.workload.connections = w.connections;
  s.workload.concurrency = w.concurrency;
  s.workload.requests = w.requests;
  s.workload.pacing = sim::Pacing::ClosedLoop;
  s.workload.body = {w.body, w.body};
  return s;
}

void world_benchmark(benchmark::State& state, const WorldCase& w) {
  const sim::Scenario scenario = scenario_of(w);
  if (const std::string why = sim::validate(scenario); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  sim::RunOptions options;
  options.keep_bytes = false;
  options.keep_bodies = false;
  std::uint64_t verified = 0;
  std::uint64_t events = 0;
  for (auto _ : state) {
    const sim::RunResult r = sim::run_world(scenario, options);
    if (!r.ok()) {
      state.SkipWithError(("world run failed: " + r.failure).c_str());
      return;
    }
    verified += r.responses_verified;
    events += r.events;
  }
  state.counters["simulated_responses_per_second"] =
      benchmark::Counter(static_cast<double>(verified), benchmark::Counter::kIsRate);
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

}  // namespace

void register_world(Scale scale) {
  const std::uint32_t requests = scale == Scale::Smoke ? 100 : 1000;
  static const WorldCase cases[] = {
      {"drain", 10, 10, 0, 3}, {"gather", 10, 10, 0, 3}, {"drain", 10, 10, 0, 16384}};
  for (WorldCase w : cases) {
    w.requests = requests;
    const std::string name = std::string("self/world/") + w.strategy + "/c" +
                             std::to_string(w.connections) + "m" + std::to_string(w.concurrency) +
                             "/" + body_label(w.body);
    benchmark::RegisterBenchmark(name.c_str(), [w](benchmark::State& s) {
      world_benchmark(s, w);
    })->Unit(benchmark::kMillisecond);
  }
}

}  // namespace emitlab::bench
