// The speed of emitlab itself.
//   self/handshake: one deterministic TLS 1.3 handshake (fresh client and server SSL over a BIO
//     pair, X25519 + Ed25519, random stream rewound each time), what every simulated connection
//     pays once.
// The world's speed is measured in bench_world.cpp, the property suite's in bench_props.cpp.
#include <benchmark/benchmark.h>

#include <memory>

#include "bench/alloc_counts.h"
#include "bench/floor_tls.h"
#include "bench/suites.h"
#include "sim/deterministic_tls.h"

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

void handshake_benchmark(benchmark::State& state) {
  // One context pair for the whole benchmark: building it is what reseed() saves the world.
  sim::DeterministicTls tls(kHandshakeSeed);
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

}  // namespace

void register_self(Scale) {
  benchmark::RegisterBenchmark("self/handshake", handshake_benchmark)
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace emitlab::bench
