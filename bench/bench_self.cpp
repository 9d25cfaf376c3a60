// The speed of emitlab itself.
//   self/handshake, self/handshake/psk: one deterministic TLS 1.3 handshake (fresh
//     client and server SSL over a BIO pair, random stream rewound each time), what every
//     simulated connection pays once: X25519 + Ed25519 (what `run` makes), or the external PSK
//     in psk_ke mode (what the explorer's scopes make).
//   self/explore/SCOPE: the explorer exhausting a named scope (gather, the scope's bound and
//     handshake, pruning on), in schedules per second; the goal (README, "Model checker"): 1,000/s
//     on one core for 3-byte scopes, 500/s for 16 KiB ones.
// The world's speed is measured in bench_world.cpp, the property suite's in bench_props.cpp.
#include <benchmark/benchmark.h>

#include <memory>

#include "bench/alloc_counts.h"
#include "bench/floor_tls.h"
#include "bench/suites.h"
#include "check/explore_checked.h"
#include "sim/deterministic_tls.h"
#include "sim/scope.h"

namespace emitlab::bench {
namespace {

constexpr std::uint64_t kHandshakeSeed = 7;
constexpr std::size_t kPairBuffer = 4 * 17408;

bool one_handshake(sim::DeterministicTls& tls) {
  tls.reseed(kHandshakeSeed);
  SslPtr server(SSL_new(tls.server_ctx()));
  SslPtr client(SSL_new(tls.client_ctx()));
  BIO* server_end = nullptr;
  BIO* client_end = nullptr;
  if (!server || !client ||
      BIO_new_bio_pair(&server_end, kPairBuffer, &client_end, kPairBuffer) != 1) {
    return false;
  }
  SSL_set_bio(server.get(), server_end, server_end);
  SSL_set_bio(client.get(), client_end, client_end);
  SSL_set_accept_state(server.get());
  SSL_set_connect_state(client.get());
  return handshake_pair(server.get(), client.get());
}

void handshake_benchmark(benchmark::State& state, sim::TlsHandshake handshake) {
  // One context pair for the whole benchmark: building it is what reseed() saves the world.
  sim::DeterministicTls tls(kHandshakeSeed);
  tls.set_handshake(handshake);
  const BenchAllocator no_port;
  AllocationMeter meter(no_port, true);
  meter.begin();
  for (auto _ : state) {
    if (!one_handshake(tls)) {
      state.SkipWithError("deterministic handshake failed");
      return;
    }
  }
  const AllocDelta allocs = meter.end();
  const auto handshakes = static_cast<double>(state.iterations());
  state.counters["handshakes_per_second"] =
      benchmark::Counter(handshakes, benchmark::Counter::kIsRate);
  state.counters["allocs_openssl_per_handshake"] = static_cast<double>(allocs.openssl) / handshakes;
}

void explore_benchmark(benchmark::State& state, const sim::Scope& scope) {
  check::ExploreRequest request;
  request.scenario = scope.scenario;
  request.scenario.strategy.base = StrategyBase::Gather;
  request.limits = check::limits_of(scope);
  std::uint64_t schedules = 0, runs = 0;
  for (auto _ : state) {
    const sim::ExploreReport r = check::explore_checked(request);
    if (!r.exhausted || r.violation) {
      state.SkipWithError("the scope was not exhausted clean");
      return;
    }
    schedules += r.counts.schedules;
    runs += r.counts.runs;
  }
  state.counters["schedules_per_second"] =
      benchmark::Counter(static_cast<double>(schedules), benchmark::Counter::kIsRate);
  state.counters["runs_per_second"] =
      benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
  state.counters["schedules_per_exploration"] =
      static_cast<double>(schedules) / static_cast<double>(state.iterations());
}

}  // namespace

void register_self(Scale) {
  for (const sim::Scope& scope : sim::named_scopes()) {
    benchmark::RegisterBenchmark(("self/explore/" + scope.name).c_str(), [&scope](
                                                                             benchmark::State& s) {
      explore_benchmark(s, scope);
    })->Unit(benchmark::kMillisecond);
  }
  // The certificate one keeps its old name: bench reports compare it across runs.
  benchmark::RegisterBenchmark("self/handshake", [](benchmark::State& s) {
    handshake_benchmark(s, sim::TlsHandshake::Certificate);
  })->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("self/handshake/psk", [](benchmark::State& s) {
    handshake_benchmark(s, sim::TlsHandshake::Psk);
  })->Unit(benchmark::kMicrosecond);
}

}  // namespace emitlab::bench
