#include "sim/slab_heap.h"

#include <malloc.h>
#include <algorithm>
#include <bit>
#include <cstdlib>
#include <mutex>

#include "core/assert.h"

namespace emitlab::sim {

namespace {

// Shared by every heap of the process. Never destroyed: OpenSSL's atexit cleanup may free an
// orphan's block after static destructors ran.
struct Shared {
  std::mutex mu;
  std::vector<std::unique_ptr<SlabHeap::Chunk>> orphans;
  // Memory of chunks whose heap died with nothing in them, for the next heap's chunks: a property
  // case or an explored schedule makes a heap per run, and fresh chunks each time cost a page
  // fault per page (the explorer's three-byte scope: 10,209 faults against 920 before the slabs).
  std::vector<unsigned char*> spare;
  Shared() { spare.reserve(SlabHeap::kSpareChunks); }
};
Shared& shared() {
  static Shared* const s = new Shared;
  return *s;
}

// Keeps a chunk's memory as spare when there is room (mu held); the chunk no longer owns it.
void keep_spare(Shared& sh, SlabHeap::Chunk& c) {
  if (sh.spare.size() < SlabHeap::kSpareChunks) {
    sh.spare.push_back(c.base);  // never reallocates: reserved
    c.base = nullptr;
  }
}

// The slabs keep small blocks out of glibc's heap, so its top is often free, and glibc's default
// 128 KiB trim threshold then hands that memory back to the kernel at the end of each run and
// faults it in again in the next (the three-byte scope, with the spare chunks: 5,034 faults
// against 920 before the slabs, and 1.7x the CPU). Setting a threshold turns glibc's dynamic
// mmap threshold off, so that one is set to the ceiling the dynamic one would reach on 64-bit.
// A refused setting (mallopt returns 0) costs speed only, so its result is not acted on.
constexpr int kTrimThreshold = 64 << 20;
constexpr int kMmapThreshold = 32 << 20;
static_assert(kTrimThreshold > kMmapThreshold,
              "freeing one heap block (below the mmap threshold) never trims by itself");
void tune_system_heap() {
  static const bool tuned = [] {
    mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
    mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
    return true;
  }();
  (void)tuned;
}

unsigned char* new_chunk_memory() {
  tune_system_heap();
  {
    Shared& sh = shared();
    std::lock_guard lock(sh.mu);
    if (!sh.spare.empty()) {
      unsigned char* base = sh.spare.back();
      sh.spare.pop_back();
      return base;
    }
  }
  return static_cast<unsigned char*>(
      std::aligned_alloc(SlabHeap::kChunkBytes, SlabHeap::kChunkBytes));
}

// Chunks are aligned to their size: an address lies in a chunk when their numbers are equal.
std::uintptr_t chunk_number(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) / SlabHeap::kChunkBytes;
}

}  // namespace

SlabHeap::Chunk::~Chunk() {
  std::free(base);
}

std::optional<std::uint32_t> SlabHeap::Chunk::index(const unsigned char* raw) const {
  const auto offset = static_cast<std::size_t>(raw - base);
  if (offset % slot != 0) return std::nullopt;
  const std::size_t i = offset / slot;
  if (i >= carved) return std::nullopt;
  return static_cast<std::uint32_t>(i);
}

void SlabHeap::abandon() {
  Shared& sh = shared();
  {
    std::lock_guard lock(sh.mu);
    for (auto& c : chunks_) {
      if (c->in_use > 0) {
        sh.orphans.push_back(std::move(c));  // a failed push leaks the chunk only
      } else {
        keep_spare(sh, *c);
      }
    }
  }
  chunks_.clear();
  table_.clear();
  shift_ = 64;
  last_found_ = nullptr;
  std::fill(current_.begin(), current_.end(), nullptr);
  for (std::vector<void*>& list : free_) list.clear();
}

std::uint64_t SlabHeap::free_slot_bytes() const {
  std::uint64_t bytes = 0;
  for (std::size_t k = 0; k < kClasses; ++k) bytes += free_[k].size() * class_bytes(k);
  return bytes;
}

void* SlabHeap::take(std::size_t total) {
  EMITLAB_ASSERT(fits(total));
  const std::size_t k = class_of(total);
  if (std::vector<void*>& list = free_[k]; !list.empty()) {
    void* raw = list.back();
    list.pop_back();
    const Where s = locate(raw);
    EMITLAB_ASSERT(s.chunk->states[s.index] == Slot::Free);
    s.chunk->states[s.index] = Slot::Live;
    ++s.chunk->in_use;
    return raw;
  }
  Chunk* c = current_[k];
  if (c == nullptr || c->carved == c->capacity) {
    auto fresh = std::make_unique<Chunk>();
    fresh->slot = static_cast<std::uint32_t>(class_bytes(k));
    fresh->capacity = static_cast<std::uint32_t>(kChunkBytes / fresh->slot);
    fresh->states = std::make_unique<Slot[]>(fresh->capacity);  // value-initialised: Free
    fresh->base = new_chunk_memory();
    if (fresh->base == nullptr) return nullptr;
    // A table grown for a chunk that then failed to be added is still a valid table.
    if ((chunks_.size() + 1) * 2 > table_.size()) {
      std::vector<Chunk*> bigger(table_.empty() ? 64 : table_.size() * 2, nullptr);
      table_.swap(bigger);
      shift_ = 64 - static_cast<unsigned>(std::countr_zero(table_.size()));
      for (const auto& old : chunks_) index_chunk(old.get());
    }
    c = chunks_.emplace_back(std::move(fresh)).get();
    index_chunk(c);
    current_[k] = c;
  }
  const std::uint32_t i = c->carved++;
  c->states[i] = Slot::Live;
  ++c->in_use;
  return c->base + std::size_t{i} * c->slot;
}

std::size_t SlabHeap::home(std::uintptr_t number) const {
  return static_cast<std::size_t>((std::uint64_t{number} * 0x9E3779B97F4A7C15ull) >> shift_);
}

void SlabHeap::index_chunk(Chunk* c) {
  std::size_t i = home(chunk_number(c->base));
  while (table_[i] != nullptr) i = (i + 1) & (table_.size() - 1);
  table_[i] = c;
}

SlabHeap::Chunk* SlabHeap::find(const void* raw) const {
  if (table_.empty()) return nullptr;
  const std::uintptr_t number = chunk_number(raw);
  if (last_found_ != nullptr && chunk_number(last_found_->base) == number) return last_found_;
  for (std::size_t i = home(number);; i = (i + 1) & (table_.size() - 1)) {
    Chunk* c = table_[i];
    if (c == nullptr) return nullptr;
    if (chunk_number(c->base) == number) return last_found_ = c;
  }
}

SlabHeap::Where SlabHeap::locate(void* raw) const {
  Chunk* c = find(raw);
  EMITLAB_ASSERT(c != nullptr);
  const std::optional<std::uint32_t> i = c->index(static_cast<unsigned char*>(raw));
  EMITLAB_ASSERT(i.has_value());
  return {c, *i};
}

std::optional<SlabHeap::Slot> SlabHeap::state(const void* raw) const {
  const Chunk* c = find(raw);
  if (c == nullptr) return std::nullopt;
  const std::optional<std::uint32_t> i = c->index(static_cast<const unsigned char*>(raw));
  if (!i) return std::nullopt;
  return c->states[*i];
}

SlabHeap::Where SlabHeap::quarantine(void* raw) {
  const Where s = locate(raw);
  EMITLAB_ASSERT(s.chunk->states[s.index] == Slot::Live);
  s.chunk->states[s.index] = Slot::Quarantined;
  return s;
}

void SlabHeap::give(void* raw) {
  give(locate(raw));
}

void SlabHeap::give(const Where& s) {
  EMITLAB_ASSERT(s.chunk != nullptr && s.index < s.chunk->carved);
  EMITLAB_ASSERT(s.chunk->states[s.index] != Slot::Free);
  // Room first, so a failed push (a real out-of-memory) leaves the slot in use, not lost.
  free_[class_of(s.chunk->slot)].push_back(s.chunk->base + std::size_t{s.index} * s.chunk->slot);
  s.chunk->states[s.index] = Slot::Free;
  --s.chunk->in_use;
}

bool release_orphan(void* raw) {
  Shared& sh = shared();
  std::lock_guard lock(sh.mu);
  for (auto it = sh.orphans.begin(); it != sh.orphans.end(); ++it) {
    SlabHeap::Chunk& c = **it;
    if (chunk_number(c.base) != chunk_number(raw)) continue;
    const std::optional<std::uint32_t> i = c.index(static_cast<unsigned char*>(raw));
    if (!i || c.states[*i] != SlabHeap::Slot::Live) return true;  // not a block: left alone
    c.states[*i] = SlabHeap::Slot::Free;
    if (--c.in_use == 0) {
      keep_spare(sh, c);
      sh.orphans.erase(it);
    }
    return true;
  }
  return false;
}

std::size_t orphan_chunks() {
  Shared& sh = shared();
  std::lock_guard lock(sh.mu);
  return sh.orphans.size();
}

}  // namespace emitlab::sim
