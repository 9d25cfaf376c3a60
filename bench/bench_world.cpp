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
  std::uint64_t body;
  // In total, over the connections, at full and at smoke scale.
  std::uint32_t requests;
  std::uint32_t smoke_requests;
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
  // c100m32 is the acceptance goal's shape (h2load -c 100 -m 32): 64 requests per connection, two
  // windows of 32 (one at smoke scale), keep an iteration under a second at today's speed.
  static const WorldCase cases[] = {
      {"drain", 10, 10, 3, 1000, 100},     {"gather", 10, 10, 3, 1000, 100},
      {"drain", 10, 10, 16384, 1000, 100}, {"drain", 100, 32, 3, 6400, 3200},
      {"gather", 100, 32, 3, 6400, 3200},
  };
  for (WorldCase w : cases) {
    if (scale == Scale::Smoke) w.requests = w.smoke_requests;
    const std::string name = std::string("self/world/") + w.strategy + "/c" +
                             std::to_string(w.connections) + "m" + std::to_string(w.concurrency) +
                             "/" + body_label(w.body);
    benchmark::RegisterBenchmark(name.c_str(), [w](benchmark::State& s) {
      world_benchmark(s, w);
    })->Unit(benchmark::kMillisecond);
  }
}

}  // namespace emitlab::bench
