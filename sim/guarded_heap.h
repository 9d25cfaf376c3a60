// The counting allocator's guarded heap (sim/counting_allocator.h): hands out blocks behind a
// sealed header (sim/counting_block.h), knows which addresses are its live and quarantined
// blocks, poisons a freed block and keeps it in a bounded FIFO quarantine before its slot is
// reused or its memory really freed, and lists the blocks still live. Small blocks come from its
// own slabs (sim/slab_heap.h), which know each slot's state; bigger ones (and every block under
// ASan) from the system heap, their membership kept in a set of addresses. It decides what a free
// may do; the counting allocator counts and reports. Not thread-safe: the counting allocator
// calls it under its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "sim/counting_block.h"
#include "sim/pointer_set.h"
#include "sim/slab_heap.h"

namespace emitlab::sim {

// A block still live (listed in allocation order).
struct Leak {
  std::uint64_t sequence = 0;
  std::uint32_t connection = 0;
  AllocOwner owner = AllocOwner::Emitter;
  std::optional<AllocSite> site;
  std::uint64_t pass = 0;
  std::uint64_t bytes = 0;
};
std::string to_string(const Leak& leak);

class GuardedHeap {
 public:
  static constexpr std::uint8_t kPoisonByte = 0xDB;

  // What a pointer handed to a free is.
  enum class Admission : std::uint8_t {
    Live,         // a live block of this heap, header intact: it may be freed
    Corrupt,      // a live block whose header canary is wrong: its memory was released here
    Quarantined,  // freed already and still quarantined (a double free)
    Unknown,      // never ours, interior, or freed and already released
  };

  // quarantine_bytes: see CountingConfig.
  GuardedHeap(std::uint32_t allocator_id, std::size_t quarantine_bytes)
      : id_(allocator_id), quarantine_limit_(quarantine_bytes) {}
  ~GuardedHeap() { drain(); }  // live blocks are left alone (leaks() named them)
  GuardedHeap(const GuardedHeap&) = delete;
  GuardedHeap& operator=(const GuardedHeap&) = delete;

  // A new live block of `bytes` for `origin`, numbered `sequence`; nullptr when the system heap
  // has none. May throw std::bad_alloc from the bookkeeping (nothing is then allocated).
  void* carve(std::size_t bytes, std::uint64_t sequence, std::uint32_t connection, AllocOwner owner,
              std::uint8_t site, std::uint64_t pass);
  // Releases a live block without poisoning or quarantine (its counting failed, or its header
  // is corrupt: nothing of the header is read).
  void discard(void* user);
  // Never dereferences `user` unless it is one of this heap's blocks.
  Admission admit(void* user);
  // The header of a block admit() called Live (or a live block just carved).
  static const detail::BlockHeader& header(void* user) { return *detail::header_of(user); }
  // Frees a Live block: poisons it and quarantines it (or releases it at once).
  void retire(void* user);

  std::vector<Leak> leaks() const;  // every live block, in allocation order
  std::uint64_t quarantined_bytes() const { return quarantine_bytes_; }
  void drain();  // releases every quarantined block now (a slab keeps its slot for reuse)
  // drain(), then gives the slabs up (SlabHeap::abandon): chunks holding live blocks become
  // orphans. Only the system heap's blocks are then left (and listed by leaks()).
  void abandon();
  // Bytes of released slab slots waiting for reuse (the memory stays with the heap).
  std::uint64_t reusable_bytes() const { return slabs_.free_slot_bytes(); }

 private:
  struct Quarantined {
    void* user;
    std::size_t total;     // header included, read when the block was freed with its header intact
    SlabHeap::Where slot;  // a slab block's slot (chunk nullptr for the system heap's)
  };

  std::uint32_t id_;
  std::size_t quarantine_limit_;
  SlabHeap slabs_;
  // The system heap's blocks' membership, kept apart from the header, whose bytes a stray write
  // may have changed: live blocks unmarked, quarantined ones marked.
  PointerSet blocks_;
  std::deque<Quarantined> quarantine_fifo_;
  std::uint64_t quarantine_bytes_ = 0;

  // Takes the oldest block out of the quarantine: its slot is free, or its memory freed.
  void release(const Quarantined& q);
};

}  // namespace emitlab::sim
