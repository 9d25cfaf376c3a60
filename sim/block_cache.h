// Released guarded-heap blocks kept for reuse (sim/guarded_heap.h): a LIFO free list per 16-byte
// size class, so a block leaving the quarantine is handed to the next carve of its class instead
// of going back through the system heap's bins (malloc's binning and chunk merging were most of
// the allocator's cost in a world run). Bounded in bytes; what does not fit is really freed.
// Holds raw memory only: membership and headers stay with the guarded heap. Under ASan the
// cache is off, so ASan's own quarantine keeps catching a use after the real free.
#pragma once

#include <array>
#include <cstddef>
#include <cstdlib>
#include <vector>

namespace emitlab::sim {

class BlockCache {
 public:
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kClasses = 256;  // blocks up to 4 KiB, header included
  static constexpr std::size_t kLimitBytes = std::size_t{4} << 20;
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

  BlockCache() = default;
  ~BlockCache() {
    clear();
  }
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // The size to ask the system heap for a block of `total` bytes: rounded up to its class, so
  // any cached block of that class fits.
  static std::size_t rounded(std::size_t total) {
    return cacheable(total) ? (total + kGranule - 1) / kGranule * kGranule : total;
  }

  // A cached block of `total` bytes' class, or nullptr.
  void* take(std::size_t total) {
    if (!cacheable(total)) return nullptr;
    std::vector<void*>& list = lists_[index(total)];
    if (list.empty()) return nullptr;
    void* raw = list.back();
    list.pop_back();
    bytes_ -= rounded(total);
    return raw;
  }

  // Keeps `raw` (allocated with rounded(total) bytes) for reuse or frees it.
  void give(void* raw, std::size_t total) {
    if (!cacheable(total) || bytes_ + rounded(total) > kLimitBytes) {
      std::free(raw);
      return;
    }
    try {
      lists_[index(total)].push_back(raw);
    } catch (...) {  // no room for the bookkeeping: the memory goes back instead
      std::free(raw);
      return;
    }
    bytes_ += rounded(total);
  }

  std::size_t bytes() const {
    return bytes_;
  }

  void clear() {
    for (std::vector<void*>& list : lists_) {
      for (void* raw : list) std::free(raw);
      list.clear();
    }
    bytes_ = 0;
  }

 private:
  static bool cacheable(std::size_t total) {
    return kEnabled && total <= kClasses * kGranule;
  }
  static std::size_t index(std::size_t total) {
    return (total + kGranule - 1) / kGranule - 1;
  }

  std::array<std::vector<void*>, kClasses> lists_;
  std::size_t bytes_ = 0;
};

}  // namespace emitlab::sim
