// The floor: the irreducible work of the same responses. The application bytes the server
// produced in the verified drain run of the same shape and body size (per connection, so each
// connection's last record is partial as it must be) are encrypted with SSL_write_ex in full
// 16384-byte records on one established deterministic TLS connection, with no HTTP/2
// bookkeeping, no rings and no transport. Every strategy's time per response divided by this
// one is its floor ratio (bench/report.py).
#include <benchmark/benchmark.h>

#include "bench/alloc_counts.h"
#include "bench/env.h"
#include "bench/floor_tls.h"
#include "bench/prepared.h"
#include "bench/suites.h"

namespace emitlab::bench {
namespace {

void floor_benchmark(benchmark::State& state, const Plan& drain) {
  const Prepared& p = prepare(drain);
  if (!p.error.empty()) {
    state.SkipWithError(p.error.c_str());
    return;
  }
  FloorTls tls(env().server_tls().server_ctx(), env().client_tls().client_ctx());
  if (!tls.ok()) {
    state.SkipWithError(tls.error().c_str());
    return;
  }
  std::uint64_t writes = 0;
  std::uint64_t app_bytes = 0;
  const BenchAllocator no_port;  // the floor has no Allocator port: OpenSSL and C++ heap only
  AllocationMeter meter(no_port, true);
  meter.begin();
  for (auto _ : state) {
    writes = 0;
    for (std::uint64_t bytes : p.app_bytes) writes += tls.encrypt(bytes);
  }
  const AllocDelta allocs = meter.end();
  for (std::uint64_t bytes : p.app_bytes) app_bytes += bytes;
  const double responses = static_cast<double>(drain.responses());
  const double all_responses = responses * static_cast<double>(state.iterations());
  state.counters["allocs_openssl_per_resp"] = static_cast<double>(allocs.openssl) / all_responses;
  state.counters["allocs_total_per_resp"] = static_cast<double>(allocs.total()) / all_responses;
  state.counters["responses_per_second"] = benchmark::Counter(
      responses * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["responses"] = responses;
  state.counters["app_bytes_per_resp"] = static_cast<double>(app_bytes) / responses;
  state.counters["ssl_writes_per_resp"] = static_cast<double>(writes) / responses;
  state.counters["tls_records_per_resp"] = static_cast<double>(writes) / responses;
}

}  // namespace

void register_floor(Scale scale) {
  for (const Shape& shape : shapes()) {
    if (!registered_at(shape, scale)) continue;
    for (std::size_t body : body_sizes(shape)) {
      const Plan drain = make_plan("drain", shape, body, scale);
      benchmark::RegisterBenchmark(("floor/" + drain.shape_body()).c_str(),
                                   [drain](benchmark::State& s) { floor_benchmark(s, drain); })
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace emitlab::bench
