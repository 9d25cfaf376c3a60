// The guarded heap's small blocks (sim/guarded_heap.h): fixed-size slots in 64 KiB chunks that
// this heap owns, one size class per chunk. Because it owns the address ranges, it tells whether
// an address is the start of one of its slots, and whether that slot is free, live or
// quarantined, from its own state table: it never reads the block, whose header a stray write
// may have changed, nor the memory before a foreign pointer. Chunks are aligned to their size, so
// the chunk of an address is one lookup of its high bits in a small table. This replaces a hash set
// of every block's address (cache misses on each free) and glibc's malloc and free of each block
// (its binning and chunk merging), which were most of the counting allocator's cost in a world run.
//
// Lifetime: chunks live as long as the heap; then their memory is kept, up to a bound, for the
// chunks of the next heap (so a run's heap starts warm). A slot freed (give) is reused LIFO by the
// next take of its class, so the memory is warm. A chunk still holding live blocks when the heap
// dies (OpenSSL blocks of caches shared between runs outlive the run that made them) becomes an
// orphan, kept until release_orphan() frees its last block. Not thread-safe (the counting
// allocator calls it under its lock); the orphans and the spare memory have their own lock. Off
// under ASan, so ASan's own heap keeps its redzones between blocks and its quarantine after the
// real free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace emitlab::sim {

class SlabHeap {
 public:
  enum class Slot : std::uint8_t { Free, Live, Quarantined };

  static constexpr std::size_t kChunkBytes = std::size_t{64} << 10;
  // Slot sizes step by kGranule up to kSmallMax, then by kLargeGranule up to kMaxSlot. The large
  // classes exist for OpenSSL's record buffers (16,712 bytes, freed after every record when
  // buffers are released): from glibc, each such malloc also merged its fast bins.
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kSmallMax = 4096;
  static constexpr std::size_t kLargeGranule = 256;
  static constexpr std::size_t kMaxSlot = std::size_t{32} << 10;  // bigger: the system heap
  static constexpr std::size_t kSmallClasses = kSmallMax / kGranule;
  static constexpr std::size_t kClasses = kSmallClasses + (kMaxSlot - kSmallMax) / kLargeGranule;
  // Chunk memory a dead heap leaves for the next (process-wide), beyond which it is freed.
  static constexpr std::size_t kSpareBytes = std::size_t{16} << 20;
  static constexpr std::size_t kSpareChunks = kSpareBytes / kChunkBytes;
  static_assert(kSmallMax % kGranule == 0 && kLargeGranule % kGranule == 0);
  static_assert(kSmallMax % kLargeGranule == 0 && kMaxSlot % kLargeGranule == 0);
  static_assert(kSpareBytes % kChunkBytes == 0);
  static_assert(kChunkBytes / kSmallMax >= 16, "a chunk of a small class holds 16 slots");
  static_assert(kChunkBytes / kMaxSlot >= 2, "a chunk of the biggest class holds 2 slots");
  static_assert(alignof(std::max_align_t) <= kGranule, "every slot keeps malloc's alignment");
#if defined(__SANITIZE_ADDRESS__)
  static constexpr bool kEnabled = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  static constexpr bool kEnabled = false;
#else
  static constexpr bool kEnabled = true;
#endif
#else
  static constexpr bool kEnabled = true;
#endif

  SlabHeap() = default;
  ~SlabHeap() {
    abandon();
  }
  SlabHeap(const SlabHeap&) = delete;
  SlabHeap& operator=(const SlabHeap&) = delete;

  // Whether a block of `total` bytes (header included) is carved here.
  static bool fits(std::size_t total) {
    return kEnabled && total > 0 && total <= kMaxSlot;
  }

  // A slot of at least `total` bytes (fits(total)), now Live; nullptr when the system heap has
  // no chunk for it. May throw std::bad_alloc from the bookkeeping (nothing is then taken).
  void* take(std::size_t total);
  // The state of the slot starting at `raw`; empty when `raw` is not the start of a slot taken
  // from this heap (a foreign, interior or never-taken address). Reads only this heap's tables.
  std::optional<Slot> state(const void* raw) const;
  // Where a slot is, so a later give() need not look it up again. Valid while the heap lives.
  struct Chunk;
  struct Where {
    Chunk* chunk = nullptr;
    std::uint32_t index = 0;
  };
  // Live to Quarantined. `raw` must be a Live slot.
  Where quarantine(void* raw);
  // Live or Quarantined to Free, reusable by the next take of its class. `raw` must be one.
  void give(void* raw);
  void give(const Where& where);  // the same, for a slot quarantine() returned

  // Empties the heap: chunks with slots in use become orphans, the others spare memory for the
  // next heap (up to kSpareBytes) or freed.
  void abandon();

  // f(raw) for every Live slot, in no meaningful order (callers sort what they report).
  template <class F>
  void for_each_live(F&& f) const {
    for (const auto& c : chunks_) {
      for (std::uint32_t i = 0; i < c->carved; ++i) {
        if (c->states[i] == Slot::Live) f(static_cast<void*>(c->base + std::size_t{i} * c->slot));
      }
    }
  }
  // Bytes of the slots given back and not yet taken again.
  std::uint64_t free_slot_bytes() const;

  struct Chunk {
    unsigned char* base = nullptr;  // kChunkBytes, aligned to kChunkBytes, from aligned_alloc
    std::uint32_t slot = 0;         // bytes per slot
    std::uint32_t capacity = 0;     // slots that fit
    std::uint32_t carved = 0;       // slots handed out at least once (a bump index)
    std::uint32_t in_use = 0;       // Live or Quarantined
    std::unique_ptr<Slot[]> states;
    ~Chunk();
    // The index of the slot starting at `raw`, or empty (raw inside this chunk's range).
    std::optional<std::uint32_t> index(const unsigned char* raw) const;
  };

 private:
  static std::size_t class_of(std::size_t total) {
    if (total <= kSmallMax) return (total + kGranule - 1) / kGranule - 1;
    return kSmallClasses + (total - kSmallMax + kLargeGranule - 1) / kLargeGranule - 1;
  }
  static std::size_t class_bytes(std::size_t k) {
    if (k < kSmallClasses) return (k + 1) * kGranule;
    return kSmallMax + (k + 1 - kSmallClasses) * kLargeGranule;
  }
  Chunk* find(const void* raw) const;  // the chunk whose range holds `raw`, or nullptr
  Where locate(void* raw) const;       // `raw` must be the start of a slot taken from here

  std::vector<std::unique_ptr<Chunk>> chunks_;  // in the order they were made
  // Open addressing by chunk number (address / kChunkBytes), linear probing; no deletion (chunks
  // go only all together). At most half full.
  std::vector<Chunk*> table_;
  unsigned shift_ = 64;
  // The chunk find() found last: a free looks its block up twice (state, then quarantine).
  mutable Chunk* last_found_ = nullptr;
  std::size_t home(std::uintptr_t number) const;
  void index_chunk(Chunk* c);
  std::vector<Chunk*> current_ = std::vector<Chunk*>(kClasses, nullptr);  // bump target
  std::vector<std::vector<void*>> free_ = std::vector<std::vector<void*>>(kClasses);
};

// Frees a block of a chunk whose heap has died (see above); the chunk itself is freed with its
// last block. True when `raw` lies in an orphan chunk (freed if it starts a live slot, otherwise
// left alone: it is no block); false when it lies in none, so it came from the system heap.
// Thread-safe.
bool release_orphan(void* raw);
// Orphan chunks still kept (for tests).
std::size_t orphan_chunks();

}  // namespace emitlab::sim
