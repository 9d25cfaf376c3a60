// The counting allocator's guarded heap (sim/counting_allocator.h): hands out blocks behind a
// sealed header (sim/counting_block.h), knows which addresses are its live and quarantined
// blocks, poisons a freed block and keeps it in a bounded FIFO quarantine before it is reused
// (sim/block_cache.h) or really freed, and lists the blocks still live. It decides what a free may
// do; the counting allocator counts and reports. Not thread-safe: the counting allocator calls it
// under its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "sim/block_cache.h"
#include "sim/counting_block.h"
#include "sim/pointer_set.h"

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
  // Releases a live block without poisoning or quarantine (its counting failed).
  void discard(void* user);
  // Never dereferences `user` unless it is one of this heap's blocks.
  Admission admit(void* user);
  // The header of a block admit() called Live (or a live block just carved).
  static const detail::BlockHeader& header(void* user) { return *detail::header_of(user); }
  // Frees a Live block: poisons it and quarantines it (or releases it at once).
  void retire(void* user);

  std::vector<Leak> leaks() const;  // every live block, in allocation order
  std::uint64_t quarantined_bytes() const { return quarantine_bytes_; }
  void drain();  // really frees every quarantined and cached block now
  std::uint64_t cached_bytes() const { return cache_.bytes(); }

 private:
  std::uint32_t id_;
  std::size_t quarantine_limit_;
  // Membership only, kept apart from the header, whose bytes a stray write may have changed:
  // live blocks unmarked, quarantined ones marked.
  PointerSet blocks_;
  std::deque<void*> quarantine_fifo_;
  std::uint64_t quarantine_bytes_ = 0;
  BlockCache cache_;  // released blocks for warm reuse (after blocks_: nothing refers to them)

  // Takes the oldest block out of the quarantine and out of membership, into the cache.
  void release(void* user);
};

}  // namespace emitlab::sim
