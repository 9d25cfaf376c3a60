// Allocation counting for the benchmarks.
//
// Four sources, one per owner the suite reports:
//   - the Allocator port (emitter scratch, nghttp2 through nghttp2_mem, response bodies): the
//     BenchAllocator below, malloc-backed so the timed region pays malloc's real cost;
//   - OpenSSL: the process-wide CRYPTO_set_mem_functions hooks of sim/openssl_mem.h (installed
//     first thing in main), read as their unattributed counts;
//   - the C++ heap (global operator new, replaced in alloc_counts.cpp): response objects, their
//     header tables, stream nodes, the pass-record storage, std::function state.
// The harness samples all of them around its timed phases (AllocationMeter); the MemoryManager
// reports the sum of those timed-phase deltas, so Google Benchmark's allocs_per_iter counts the
// timed work only (its Start/Stop bracket the whole run, untimed setup included).
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/allocator.h"

namespace emitlab::bench {

struct CxxHeap {
  std::uint64_t allocations = 0;
  std::uint64_t bytes = 0;
};
CxxHeap cxx_heap();  // since the process started

struct PortCounts {
  std::array<std::uint64_t, kAllocOwners> allocs{};
  std::array<std::uint64_t, kAllocOwners> frees{};
  std::uint64_t bytes = 0;
  std::uint64_t total_allocs() const;
};

// The benchmark's Allocator port: malloc and counters, no headers, no lock (single-threaded).
class BenchAllocator final : public Allocator {
 public:
  void* allocate(std::size_t bytes, const AllocTag& tag) override;
  void deallocate(void* p, const AllocTag& tag) override;
  void* reallocate(void* p, std::size_t bytes, const AllocTag& tag) override;
  const PortCounts& counts() const { return counts_; }

  // Every BenchAllocator of the process together (for the MemoryManager).
  static std::uint64_t process_allocs();
  static std::uint64_t process_bytes();
  static std::uint64_t process_live_bytes();
  static std::uint64_t process_peak_bytes();
  static void reset_process_peak();

 private:
  PortCounts counts_;
};

// Allocations of every owner at one instant.
struct AllocSample {
  std::uint64_t openssl = 0;
  std::uint64_t cxx = 0;
  std::uint64_t cxx_bytes = 0;
  PortCounts port;  // of one BenchAllocator
};
AllocSample sample(const BenchAllocator& port);

// Allocations between two samples, by owner.
struct AllocDelta {
  std::uint64_t emitter = 0;
  std::uint64_t nghttp2 = 0;
  std::uint64_t response = 0;
  std::uint64_t openssl = 0;
  std::uint64_t cxx = 0;
  std::uint64_t bytes = 0;  // port and C++ heap (OpenSSL's hooks count blocks, not bytes here)
  std::uint64_t total() const { return emitter + nghttp2 + response + openssl + cxx; }
  bool operator==(const AllocDelta&) const = default;
};
AllocDelta operator-(const AllocSample& later, const AllocSample& earlier);

// Brackets one phase; a timed phase's delta is added to the process's timed totals.
class AllocationMeter {
 public:
  AllocationMeter(const BenchAllocator& port, bool timed) : port_(&port), timed_(timed) {}
  void begin() { start_ = sample(*port_); }
  AllocDelta end();

 private:
  const BenchAllocator* port_;
  bool timed_;
  AllocSample start_;
};

// True while Google Benchmark runs a benchmark again for the MemoryManager (at most 16
// iterations after the timed run, whose other results it discards): work that only serves
// timing (the paired references) can be skipped then.
bool in_memory_run();

// Google Benchmark 1.7.1's MemoryManager still declares the pure virtual Stop(Result*) (the
// Result& overload forwards to it), so that is the one implemented.
class TimedPhaseMemoryManager final : public benchmark::MemoryManager {
 public:
  void Start() override;
  void Stop(Result* result) override;

 private:
  std::uint64_t allocs_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace emitlab::bench
