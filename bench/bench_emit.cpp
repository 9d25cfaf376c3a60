// The emit benchmarks. What is timed is the server side only: feeding the recorded client
// ciphertext in (decryption, HTTP/2 parsing), the handler building and submitting each
// response, every emit pass, encryption and write submission, and the completions. Building
// the connections and replaying their handshakes happens while the timer is paused, once per
// iteration; the simulated peer never runs in a timed iteration (see bench/fleet.h).
//
// Paired references. On a shared machine two benchmarks run a minute apart see different
// loads, so a ratio of their separate throughputs mixes the strategies' difference with the
// machine's drift. Every iteration therefore also replays, while Google Benchmark's timer is
// paused, the drain run of the same shape and body and the floor's encryption of the same
// bytes, and measures the three timed phases with the same thread CPU clock. The ratios of
// those sums (vs_drain_paired, x_floor_paired) compare work done seconds apart, interleaved.
#include <benchmark/benchmark.h>

#include <time.h>

#include <cstdio>
#include <memory>
#include <string>

#include "bench/alloc_counts.h"
#include "bench/env.h"
#include "bench/figures.h"
#include "bench/floor_tls.h"
#include "bench/prepared.h"
#include "bench/suites.h"

namespace emitlab::bench {
namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct IterationResult {
  PhaseFigures figures;
  AllocDelta allocs;
};

// Thread CPU seconds of the three timed phases, summed over the iterations.
struct PairedSeconds {
  double strategy = 0;
  double drain = 0;
  double floor = 0;
};

// The untimed references of one iteration: drain's replay and the floor's encryption.
bool run_references(const Prepared& drain, FloorTls& floor, PairedSeconds* paired,
                    std::string* error) {
  BenchAllocator port;
  auto fleet = replay_handshakes(drain.plan, drain.recording, port, false, error);
  if (!fleet) return false;
  double t0 = thread_cpu_seconds();
  const bool ok = fleet->replay(drain.recording, drain.recording.requests);
  paired->drain += thread_cpu_seconds() - t0;
  if (!ok) {
    *error = "drain reference: " + fleet->error();
    return false;
  }
  fleet.reset();
  t0 = thread_cpu_seconds();
  for (std::uint64_t bytes : drain.app_bytes) floor.encrypt(bytes);
  paired->floor += thread_cpu_seconds() - t0;
  return true;
}

// One iteration: untimed setup, timed replay, untimed teardown and references.
bool run_iteration(benchmark::State& state, const Prepared& p, const Prepared& drain,
                   FloorTls& floor, IterationResult* out, PairedSeconds* paired) {
  state.PauseTiming();
  BenchAllocator port;  // declared first: it outlives the fleet that allocates through it
  std::string error;
  auto fleet = replay_handshakes(p.plan, p.recording, port, false, &error);
  if (!fleet) {
    state.SkipWithError(error.c_str());
    return false;
  }
  AllocationMeter meter(port, true);
  meter.begin();
  state.ResumeTiming();
  const double t0 = thread_cpu_seconds();
  const bool ok = fleet->replay(p.recording, p.recording.requests);
  paired->strategy += thread_cpu_seconds() - t0;
  state.PauseTiming();
  out->allocs = meter.end();
  out->figures = fleet->figures();
  if (!ok) {
    state.SkipWithError(fleet->error().c_str());
    return false;
  }
  fleet.reset();  // teardown (SSL_free, rings) is not the responses' work
  if (!in_memory_run() && !run_references(drain, floor, paired, &error)) {
    state.SkipWithError(error.c_str());
    return false;
  }
  state.ResumeTiming();
  return true;
}

void emit_benchmark(benchmark::State& state, const Plan& plan, const Plan& drain_plan) {
  const Prepared& p = prepare(plan);
  const Prepared& drain = prepare(drain_plan);
  const std::string& error = !p.error.empty() ? p.error : drain.error;
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  FloorTls floor(env().server_tls().server_ctx(), env().client_tls().client_ctx());
  if (!floor.ok()) {
    state.SkipWithError(floor.error().c_str());
    return;
  }
  IterationResult last;
  PairedSeconds paired;
  for (auto _ : state) {
    if (!run_iteration(state, p, drain, floor, &last, &paired)) return;
  }
  if (auto d = first_difference(last.figures, p.figures); !d.empty()) {
    state.SkipWithError(("timed replay differs from the verified run: " + d).c_str());
    return;
  }
  set_counters(state, last.figures, last.allocs, plan.responses());
  // 1 when every timed iteration allocated exactly what the checking replay did.
  state.counters["alloc_counts_stable"] = last.allocs == p.allocs ? 1.0 : 0.0;
  if (paired.drain > 0 && paired.floor > 0) {
    state.counters["vs_drain_paired"] = paired.drain / paired.strategy;
    state.counters["x_floor_paired"] = paired.strategy / paired.floor;
  }
  state.SetLabel(plan.spec.name() +
                 " requests_per_conn=" + std::to_string(plan.requests_per_connection));
}

}  // namespace

void register_emit(Scale scale) {
  for (const Shape& shape : shapes()) {
    if (!registered_at(shape, scale)) continue;
    for (std::size_t body : body_sizes(shape)) {
      const Plan drain = make_plan("drain", shape, body, scale);
      for (const std::string& strategy : strategy_names()) {
        const Plan plan = make_plan(strategy, shape, body, scale);
        benchmark::RegisterBenchmark(plan.name().c_str(), [plan, drain](benchmark::State& s) {
          emit_benchmark(s, plan, drain);
        })->Unit(benchmark::kMicrosecond);
      }
    }
  }
}

int replay_timed_phases(const Plan& plan, int iterations, const std::function<void(bool)>& around) {
  const Prepared& p = prepare(plan);
  if (!p.error.empty()) {
    std::fprintf(stderr, "%s: %s\n", plan.name().c_str(), p.error.c_str());
    return 1;
  }
  for (int i = 0; i < iterations; ++i) {
    BenchAllocator port;
    std::string error;
    auto fleet = replay_handshakes(plan, p.recording, port, false, &error);
    if (!fleet) {
      std::fprintf(stderr, "%s: %s\n", plan.name().c_str(), error.c_str());
      return 1;
    }
    around(true);
    const bool ok = fleet->replay(p.recording, p.recording.requests);
    around(false);
    if (!ok) {
      std::fprintf(stderr, "%s: %s\n", plan.name().c_str(), fleet->error().c_str());
      return 1;
    }
  }
  std::printf("%s: %d timed phases of %llu responses replayed (verified first)\n",
              plan.name().c_str(), iterations, static_cast<unsigned long long>(plan.responses()));
  return 0;
}

}  // namespace emitlab::bench
