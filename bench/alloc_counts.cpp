#include "bench/alloc_counts.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

#include "sim/openssl_mem.h"

namespace {

// Relaxed atomics: the suite is single-threaded, but a library may allocate from a thread of
// its own and the counts must stay well-defined.
constinit std::atomic<std::uint64_t> g_cxx_allocs{0};
constinit std::atomic<std::uint64_t> g_cxx_bytes{0};

void* counted_new(std::size_t n) {
  g_cxx_allocs.fetch_add(1, std::memory_order_relaxed);
  g_cxx_bytes.fetch_add(n, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

// Process-wide totals of every BenchAllocator, and the timed-phase sums the MemoryManager reads.
std::uint64_t g_port_allocs = 0;
std::uint64_t g_port_bytes = 0;
std::uint64_t g_port_live = 0;
std::uint64_t g_port_peak = 0;
std::uint64_t g_timed_allocs = 0;
std::uint64_t g_timed_bytes = 0;
bool g_memory_run = false;

std::size_t owner_index(const emitlab::AllocTag& tag) {
  return static_cast<std::size_t>(tag.owner);
}

void note_alloc(void* p, std::size_t bytes) {
  ++g_port_allocs;
  g_port_bytes += bytes;
  g_port_live += malloc_usable_size(p);
  g_port_peak = std::max(g_port_peak, g_port_live);
}

void note_free(void* p) {
  g_port_live -= std::min<std::uint64_t>(g_port_live, malloc_usable_size(p));
}

}  // namespace

// The replaceable global allocation functions: every other form (array, nothrow) forwards here.
void* operator new(std::size_t n) {
  return counted_new(n);
}
void* operator new[](std::size_t n) {
  return counted_new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace emitlab::bench {

CxxHeap cxx_heap() {
  return {g_cxx_allocs.load(std::memory_order_relaxed),
          g_cxx_bytes.load(std::memory_order_relaxed)};
}

std::uint64_t PortCounts::total_allocs() const {
  std::uint64_t sum = 0;
  for (auto n : allocs) sum += n;
  return sum;
}

void* BenchAllocator::allocate(std::size_t bytes, const AllocTag& tag) {
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (p == nullptr) return nullptr;
  ++counts_.allocs[owner_index(tag)];
  counts_.bytes += bytes;
  note_alloc(p, bytes);
  return p;
}

void BenchAllocator::deallocate(void* p, const AllocTag& tag) {
  if (p == nullptr) return;
  ++counts_.frees[owner_index(tag)];
  note_free(p);
  std::free(p);
}

// Counted as one allocation and one free, as sim's CountingAllocator does.
void* BenchAllocator::reallocate(void* p, std::size_t bytes, const AllocTag& tag) {
  if (p == nullptr) return allocate(bytes, tag);
  const std::size_t old_usable = malloc_usable_size(p);
  void* moved = std::realloc(p, bytes == 0 ? 1 : bytes);
  if (moved == nullptr) return nullptr;
  ++counts_.frees[owner_index(tag)];
  ++counts_.allocs[owner_index(tag)];
  counts_.bytes += bytes;
  g_port_live -= std::min<std::uint64_t>(g_port_live, old_usable);
  note_alloc(moved, bytes);
  return moved;
}

std::uint64_t BenchAllocator::process_allocs() {
  return g_port_allocs;
}
std::uint64_t BenchAllocator::process_bytes() {
  return g_port_bytes;
}
std::uint64_t BenchAllocator::process_live_bytes() {
  return g_port_live;
}
std::uint64_t BenchAllocator::process_peak_bytes() {
  return g_port_peak;
}
void BenchAllocator::reset_process_peak() {
  g_port_peak = g_port_live;
}

AllocSample sample(const BenchAllocator& port) {
  AllocSample s;
  s.openssl = sim::openssl_unattributed_stats().allocations;
  const CxxHeap heap = cxx_heap();
  s.cxx = heap.allocations;
  s.cxx_bytes = heap.bytes;
  s.port = port.counts();
  return s;
}

AllocDelta operator-(const AllocSample& later, const AllocSample& earlier) {
  auto owner = [&](AllocOwner o) {
    const auto i = static_cast<std::size_t>(o);
    return later.port.allocs[i] - earlier.port.allocs[i];
  };
  AllocDelta d;
  d.emitter = owner(AllocOwner::Emitter);
  d.nghttp2 = owner(AllocOwner::Nghttp2);
  d.response = owner(AllocOwner::Response);
  d.openssl = later.openssl - earlier.openssl;
  d.cxx = later.cxx - earlier.cxx;
  d.bytes = (later.port.bytes - earlier.port.bytes) + (later.cxx_bytes - earlier.cxx_bytes);
  return d;
}

AllocDelta AllocationMeter::end() {
  const AllocDelta d = sample(*port_) - start_;
  if (timed_) {
    g_timed_allocs += d.total();
    g_timed_bytes += d.bytes;
  }
  return d;
}

bool in_memory_run() {
  return g_memory_run;
}

void TimedPhaseMemoryManager::Start() {
  g_memory_run = true;
  allocs_ = g_timed_allocs;
  bytes_ = g_timed_bytes;
  BenchAllocator::reset_process_peak();
}

void TimedPhaseMemoryManager::Stop(Result* result) {
  g_memory_run = false;
  result->num_allocs = static_cast<std::int64_t>(g_timed_allocs - allocs_);
  result->total_allocated_bytes = static_cast<std::int64_t>(g_timed_bytes - bytes_);
  // Peak live bytes through the Allocator port (bodies, scratch, nghttp2) during the run.
  result->max_bytes_used = static_cast<std::int64_t>(BenchAllocator::process_peak_bytes());
}

}  // namespace emitlab::bench
