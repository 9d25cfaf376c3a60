// A set of block addresses for the guarded heap (sim/guarded_heap.h): open addressing with
// linear probing and backward-shift deletion, so inserting and erasing never allocate
// (std::unordered_set makes a heap node per element, which was a quarter of a world run). Each
// member carries one mark bit, kept in the address's low bit (members are even), so a block
// changes state (live to quarantined) in its slot instead of moving between two sets. Never
// iterated into output, so the address order it keeps cannot reach a run's results. Elements
// are `void*`, not `const void*`: GCC 12 takes a const pointer argument for a read of the
// fresh, uninitialised block behind it and warns.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace emitlab::sim {

class PointerSet {
 public:
  bool contains(void* p) const { return find(p) != kAbsent; }

  // False when `p` was already there (or is null or odd, which never names a block). A new
  // member is unmarked.
  bool insert(void* p) {
    if (p == nullptr || (bits(p) & kMark) != 0) return false;
    if (contains(p)) return false;
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(p);
    ++size_;
    return true;
  }

  // Whether member `p` is marked; empty when `p` is not a member.
  std::optional<bool> marked(void* p) const {
    const std::size_t i = find(p);
    if (i == kAbsent) return std::nullopt;
    return (bits(slots_[i]) & kMark) != 0;
  }
  // Marks member `p`; false when it is not a member.
  bool mark(void* p) {
    const std::size_t i = find(p);
    if (i == kAbsent) return false;
    slots_[i] = from_bits(bits(slots_[i]) | kMark);
    return true;
  }

  // False when `p` was not there.
  bool erase(void* p) {
    std::size_t i = find(p);
    if (i == kAbsent) return false;
    // Shift later members of the probe run back so every member stays reachable from its home.
    for (std::size_t j = next(i);; j = next(j)) {
      void* q = slots_[j];
      if (q == nullptr) break;
      const std::size_t h = home(q);
      // q may move to the hole at i when its home is not cyclically inside (i, j].
      const bool home_in_gap = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (!home_in_gap) {
        slots_[i] = q;
        i = j;
      }
    }
    slots_[i] = nullptr;
    --size_;
    return true;
  }

  std::size_t size() const { return size_; }
  void clear() {
    slots_.assign(slots_.size(), nullptr);
    size_ = 0;
  }
  template <class F>
  void for_each(F&& f) const {  // f(member): members without their mark
    for (void* p : slots_) {
      if (p != nullptr) f(key(p));
    }
  }

 private:
  static constexpr std::size_t kInitialSlots = 1024;
  static constexpr std::uintptr_t kMark = 1;
  static constexpr std::size_t kAbsent = ~std::size_t{0};

  static std::uintptr_t bits(void* p) { return reinterpret_cast<std::uintptr_t>(p); }
  static void* from_bits(std::uintptr_t b) { return reinterpret_cast<void*>(b); }
  static void* key(void* slot) { return from_bits(bits(slot) & ~kMark); }

  // The slot holding member `p`, or kAbsent.
  std::size_t find(void* p) const {
    if (p == nullptr || slots_.empty()) return kAbsent;
    for (std::size_t i = home(p);; i = next(i)) {
      if (slots_[i] == nullptr) return kAbsent;
      if (key(slots_[i]) == p) return i;
    }
  }

  std::size_t home(void* p) const {
    // Fibonacci hashing of the address without its alignment bits (and so without the mark).
    const auto x = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p) >> 4);
    return static_cast<std::size_t>((x * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  std::size_t next(std::size_t i) const { return (i + 1) & (slots_.size() - 1); }

  void grow() {
    const std::size_t slots = slots_.empty() ? kInitialSlots : slots_.size() * 2;
    std::vector<void*> old(slots, nullptr);
    old.swap(slots_);
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(slots));
    for (void* p : old) {
      if (p != nullptr) place(p);
    }
  }
  // Puts `p` (a slot's value, mark included), known absent, in the first free slot of its
  // probe run; the table has room.
  void place(void* p) {
    std::size_t i = home(p);
    while (slots_[i] != nullptr) i = next(i);
    slots_[i] = p;
  }

  std::vector<void*> slots_;
  std::size_t size_ = 0;
  unsigned shift_ = 64;
};

}  // namespace emitlab::sim
