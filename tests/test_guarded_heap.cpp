// GuardedHeap (sim/guarded_heap.h) reusing released blocks through its BlockCache: a block out of
// the quarantine is the next block of its size class, a stale pointer to it is not a block until
// it is carved again, a header damaged in the quarantine keeps its memory out of reuse, and
// drain() empties the cache. Under ASan the cache is off and these checks are skipped.
#define BOOST_TEST_MODULE guarded_heap
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/guarded_heap.h"

namespace {

using emitlab::sim::BlockCache;
using emitlab::sim::GuardedHeap;
using Admission = GuardedHeap::Admission;

void* carve(GuardedHeap& heap, std::size_t bytes, std::uint64_t sequence) {
  return heap.carve(bytes, sequence, 0, emitlab::AllocOwner::Emitter, 0, 0);
}

void free_block(GuardedHeap& heap, void* user) {
  BOOST_REQUIRE((heap.admit(user) == Admission::Live));
  heap.retire(user);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_block_out_of_the_quarantine_is_the_next_block_of_its_class) {
  if (!BlockCache::kEnabled) return;
  GuardedHeap heap(1, 1);  // the quarantine holds only the newest block
  void* a = carve(heap, 100, 1);
  void* b = carve(heap, 100, 2);
  free_block(heap, a);
  BOOST_TEST((heap.admit(a) == Admission::Quarantined));
  free_block(heap, b);  // pushes `a` out of the quarantine into the cache
  BOOST_TEST(heap.cached_bytes() > 100u);
  BOOST_TEST((heap.admit(a) == Admission::Unknown));  // stale: no longer a block
  BOOST_TEST((heap.admit(b) == Admission::Quarantined));
  void* c = carve(heap, 110, 3);  // the same 16-byte class as 100 with the header
  BOOST_TEST(c == a);
  BOOST_TEST(heap.cached_bytes() == 0u);
  // Recycled, the address is a different live block; the counting allocator's tag check is what
  // tells a stale free of the old block from a free of this one.
  BOOST_TEST((heap.admit(a) == Admission::Live));
  BOOST_TEST(GuardedHeap::header(a).sequence == 3u);
  void* d = carve(heap, 1000, 4);  // another class: fresh memory
  BOOST_TEST(d != b);
  heap.discard(c);
  heap.discard(d);
}

BOOST_AUTO_TEST_CASE(a_header_damaged_in_the_quarantine_keeps_its_memory_out_of_reuse) {
  if (!BlockCache::kEnabled) return;
  GuardedHeap heap(1, 1);
  void* a = carve(heap, 100, 1);
  void* b = carve(heap, 100, 2);
  free_block(heap, a);
  // An underflow of `a` claims a bigger size: reused, it would be handed out for 4000 bytes.
  const_cast<emitlab::sim::detail::BlockHeader&>(GuardedHeap::header(a)).size = 4000;
  free_block(heap, b);
  BOOST_TEST(heap.cached_bytes() == 0u);
  heap.drain();
}

BOOST_AUTO_TEST_CASE(drain_frees_the_cache_and_the_cache_is_bounded) {
  if (!BlockCache::kEnabled) return;
  GuardedHeap heap(1, 1);
  constexpr std::size_t kBlock = 4000;
  const std::size_t count = BlockCache::kLimitBytes / kBlock + 100;
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < count; ++i) blocks.push_back(carve(heap, kBlock, i + 1));
  for (void* p : blocks) free_block(heap, p);
  // Every block but the quarantined one was released; the cache kept what fits its bound.
  BOOST_TEST(heap.cached_bytes() <= BlockCache::kLimitBytes);
  BOOST_TEST(heap.cached_bytes() + BlockCache::rounded(kBlock + 64) > BlockCache::kLimitBytes);
  heap.drain();
  BOOST_TEST(heap.cached_bytes() == 0u);
  BOOST_TEST(heap.quarantined_bytes() == 0u);
}
