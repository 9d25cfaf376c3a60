// GuardedHeap (sim/guarded_heap.h) on its slabs (sim/slab_heap.h): a block out of the quarantine
// is the next block of its size class, a record buffer is a block of a large class, a stale,
// foreign, interior or never-carved address is not a block, a header damaged in the quarantine or
// while live cannot change what is released, the leaks list both kinds of block, and a heap that
// dies with live blocks keeps their chunk for the orphan frees. Under ASan the slabs are off and
// the slab-only checks are skipped.
#define BOOST_TEST_MODULE guarded_heap
#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/guarded_heap.h"

namespace {

using emitlab::sim::GuardedHeap;
using emitlab::sim::SlabHeap;
using emitlab::sim::detail::BlockHeader;
using emitlab::sim::detail::kHeaderSize;
using Admission = GuardedHeap::Admission;

void* carve(GuardedHeap& heap, std::size_t bytes, std::uint64_t sequence) {
  return heap.carve(bytes, sequence, 0, emitlab::AllocOwner::Emitter, 0, 0);
}

void free_block(GuardedHeap& heap, void* user) {
  BOOST_REQUIRE((heap.admit(user) == Admission::Live));
  heap.retire(user);
}

BlockHeader& header(void* user) {
  return const_cast<BlockHeader&>(GuardedHeap::header(user));
}

void* offset(void* user, std::ptrdiff_t bytes) {
  return static_cast<unsigned char*>(user) + bytes;
}

// The slot size of a block of `bytes`: its header and the bytes, rounded up to the granule.
constexpr std::size_t slot_of(std::size_t bytes) {
  return (kHeaderSize + bytes + SlabHeap::kGranule - 1) / SlabHeap::kGranule * SlabHeap::kGranule;
}

// The same for a block past the small classes: rounded up to the large granule.
constexpr std::size_t large_slot_of(std::size_t bytes) {
  const std::size_t over = kHeaderSize + bytes - SlabHeap::kSmallMax;
  return SlabHeap::kSmallMax +
         (over + SlabHeap::kLargeGranule - 1) / SlabHeap::kLargeGranule * SlabHeap::kLargeGranule;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_record_buffer_is_a_slab_block_of_a_large_class) {
  if (!SlabHeap::kEnabled) return;
  constexpr std::size_t kRecordBuffer = 16712;  // OpenSSL 3.0's read buffer, as the world frees it
  static_assert(kHeaderSize + kRecordBuffer > SlabHeap::kSmallMax);
  static_assert(kHeaderSize + kRecordBuffer <= SlabHeap::kMaxSlot);
  GuardedHeap heap(1, 1);
  void* a = carve(heap, kRecordBuffer, 1);
  void* b = carve(heap, kRecordBuffer, 2);
  // Neighbours in one chunk, one large slot apart.
  BOOST_TEST(static_cast<unsigned char*>(b) - static_cast<unsigned char*>(a) ==
             static_cast<std::ptrdiff_t>(large_slot_of(kRecordBuffer)));
  BOOST_TEST((heap.admit(offset(a, SlabHeap::kGranule)) == Admission::Unknown));  // interior
  free_block(heap, a);
  free_block(heap, b);  // pushes `a` out of the quarantine
  BOOST_TEST(heap.reusable_bytes() == large_slot_of(kRecordBuffer));
  // Any size rounding to the same large slot reuses it.
  BOOST_TEST(carve(heap, kRecordBuffer - SlabHeap::kGranule, 3) == a);
  heap.drain();
}

BOOST_AUTO_TEST_CASE(a_block_out_of_the_quarantine_is_the_next_block_of_its_class) {
  if (!SlabHeap::kEnabled) return;
  GuardedHeap heap(1, 1);  // the quarantine holds only the newest block
  void* a = carve(heap, 100, 1);
  void* b = carve(heap, 100, 2);
  free_block(heap, a);
  BOOST_TEST((heap.admit(a) == Admission::Quarantined));
  free_block(heap, b);  // pushes `a` out of the quarantine: its slot is free
  BOOST_TEST(heap.reusable_bytes() == slot_of(100));
  BOOST_TEST((heap.admit(a) == Admission::Unknown));  // stale: no longer a block
  BOOST_TEST((heap.admit(b) == Admission::Quarantined));
  void* c = carve(heap, 110, 3);  // the same 16-byte class as 100 with the header
  BOOST_TEST(c == a);
  BOOST_TEST(heap.reusable_bytes() == 0u);
  // Recycled, the address is a different live block; the counting allocator's tag check is what
  // tells a stale free of the old block from a free of this one.
  BOOST_TEST((heap.admit(a) == Admission::Live));
  BOOST_TEST(GuardedHeap::header(a).sequence == 3u);
  void* d = carve(heap, 1000, 4);  // another class: another chunk
  BOOST_TEST(d != b);
  heap.discard(c);
  heap.discard(d);
}

BOOST_AUTO_TEST_CASE(foreign_interior_and_never_carved_addresses_are_not_blocks) {
  GuardedHeap heap(1, 1 << 20);
  void* a = carve(heap, 100, 1);
  void* big = carve(heap, SlabHeap::kMaxSlot + 1000, 2);  // from the system heap
  std::uint64_t local[8] = {};
  BOOST_TEST((heap.admit(a) == Admission::Live));
  BOOST_TEST((heap.admit(big) == Admission::Live));
  BOOST_TEST((heap.admit(&local[6]) == Admission::Unknown));
  BOOST_TEST((heap.admit(offset(a, 16)) == Admission::Unknown));    // interior
  BOOST_TEST((heap.admit(offset(big, 16)) == Admission::Unknown));  // interior
  if (SlabHeap::kEnabled) {
    // The next slot of a's chunk lies in memory the heap owns but has not handed out.
    BOOST_TEST(
        (heap.admit(offset(a, static_cast<std::ptrdiff_t>(slot_of(100)))) == Admission::Unknown));
  }
  free_block(heap, a);
  free_block(heap, big);
  BOOST_TEST((heap.admit(a) == Admission::Quarantined));
  BOOST_TEST((heap.admit(big) == Admission::Quarantined));
  BOOST_TEST(heap.quarantined_bytes() == 2 * kHeaderSize + 100 + SlabHeap::kMaxSlot + 1000);
}

BOOST_AUTO_TEST_CASE(a_header_damaged_in_the_quarantine_cannot_change_what_is_released) {
  if (!SlabHeap::kEnabled) return;
  GuardedHeap heap(1, 1);
  void* a = carve(heap, 100, 1);
  void* b = carve(heap, 100, 2);
  free_block(heap, a);
  // An underflow of `a` claims a bigger size, past the slabs' biggest class: read at release, it
  // would send the slot to the system heap's free.
  header(a).size = SlabHeap::kMaxSlot * 2;
  free_block(heap, b);
  BOOST_TEST(heap.quarantined_bytes() == kHeaderSize + 100);  // b only
  BOOST_TEST(heap.reusable_bytes() == slot_of(100));
  BOOST_TEST(carve(heap, 100, 3) == a);
  heap.drain();
}

BOOST_AUTO_TEST_CASE(a_live_block_whose_header_is_corrupt_is_refused_and_its_slot_reused) {
  GuardedHeap heap(1, 1 << 20);
  void* a = carve(heap, 100, 1);
  header(a).canary ^= 1;
  BOOST_TEST((heap.admit(a) == Admission::Corrupt));
  BOOST_TEST((heap.admit(a) == Admission::Unknown));  // released: a second free is not a block
  BOOST_TEST(heap.leaks().empty());
  if (SlabHeap::kEnabled) BOOST_TEST(carve(heap, 100, 2) == a);
}

BOOST_AUTO_TEST_CASE(leaks_list_slab_and_system_blocks_in_allocation_order) {
  GuardedHeap heap(1, 1 << 20);
  void* big = carve(heap, SlabHeap::kMaxSlot * 2, 1);
  void* small = carve(heap, 10, 2);
  void* freed = carve(heap, 10, 3);
  void* last = carve(heap, 3000, 4);
  free_block(heap, freed);
  const auto leaks = heap.leaks();
  BOOST_REQUIRE(leaks.size() == 3u);
  BOOST_TEST(leaks[0].sequence == 1u);
  BOOST_TEST(leaks[0].bytes == SlabHeap::kMaxSlot * 2);
  BOOST_TEST(leaks[1].sequence == 2u);
  BOOST_TEST(leaks[2].sequence == 4u);
  BOOST_TEST(leaks[2].bytes == 3000u);
  heap.discard(big);
  heap.discard(small);
  heap.discard(last);
  BOOST_TEST(heap.leaks().empty());
}

BOOST_AUTO_TEST_CASE(drain_releases_the_quarantine_into_reusable_slots) {
  GuardedHeap heap(1, 1 << 20);
  std::vector<void*> blocks;
  for (std::uint64_t i = 0; i < 100; ++i) blocks.push_back(carve(heap, 200, i + 1));
  for (void* p : blocks) free_block(heap, p);
  BOOST_TEST(heap.quarantined_bytes() == 100 * (kHeaderSize + 200));
  heap.drain();
  BOOST_TEST(heap.quarantined_bytes() == 0u);
  BOOST_TEST(heap.reusable_bytes() == (SlabHeap::kEnabled ? 100 * slot_of(200) : 0u));
  for (void* p : blocks) BOOST_TEST((heap.admit(p) == Admission::Unknown));
}

BOOST_AUTO_TEST_CASE(a_heap_that_dies_with_live_blocks_keeps_their_chunk_for_the_orphan_frees) {
  if (!SlabHeap::kEnabled) return;
  const std::size_t before = emitlab::sim::orphan_chunks();
  void* kept = nullptr;
  void* other = nullptr;
  {
    GuardedHeap heap(1, 1 << 20);
    kept = carve(heap, 64, 1);
    other = carve(heap, 64, 2);
    void* gone = carve(heap, 2000, 3);  // its chunk ends with nothing in use: freed
    free_block(heap, gone);
  }
  BOOST_TEST(emitlab::sim::orphan_chunks() == before + 1);
  std::uint64_t local = 0;
  BOOST_TEST(!emitlab::sim::release_orphan(&local));  // no orphan's: the system heap's
  BOOST_TEST(emitlab::sim::release_orphan(emitlab::sim::detail::header_of(kept)));
  BOOST_TEST(emitlab::sim::orphan_chunks() == before + 1);  // `other` still lives there
  // A second free of the same block lies in the orphan but is no block: left alone.
  BOOST_TEST(emitlab::sim::release_orphan(emitlab::sim::detail::header_of(kept)));
  BOOST_TEST(emitlab::sim::orphan_chunks() == before + 1);
  BOOST_TEST(emitlab::sim::release_orphan(emitlab::sim::detail::header_of(other)));
  BOOST_TEST(emitlab::sim::orphan_chunks() == before);
}
