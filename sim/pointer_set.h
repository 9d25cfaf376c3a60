// A set of block addresses for the counting allocator: open addressing with linear probing and
// backward-shift deletion, so inserting and erasing never allocate (std::unordered_set makes a
// heap node per element, which was a quarter of a world run). Membership only: it is never
// iterated into output, so the address order it keeps cannot reach a run's results. Elements
// are `void*`, not `const void*`: GCC 12 takes a const pointer argument for a read of the
// fresh, uninitialised block behind it and warns.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace emitlab::sim {

class PointerSet {
 public:
  bool contains(void* p) const {
    if (p == nullptr || slots_.empty()) return false;
    for (std::size_t i = home(p);; i = next(i)) {
      if (slots_[i] == p) return true;
      if (slots_[i] == nullptr) return false;
    }
  }

  // False when `p` was already there (or is null, which never names a block).
  bool insert(void* p) {
    if (p == nullptr) return false;
    if (contains(p)) return false;
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(p);
    ++size_;
    return true;
  }

  // False when `p` was not there.
  bool erase(void* p) {
    if (p == nullptr || slots_.empty()) return false;
    std::size_t i = home(p);
    for (; slots_[i] != p; i = next(i)) {
      if (slots_[i] == nullptr) return false;
    }
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
  void for_each(F&& f) const {
    for (void* p : slots_) {
      if (p != nullptr) f(p);
    }
  }

 private:
  static constexpr std::size_t kInitialSlots = 1024;

  std::size_t home(void* p) const {
    // Fibonacci hashing of the address without its alignment bits.
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
  // Puts `p`, known absent, in the first free slot of its probe run; the table has room.
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
