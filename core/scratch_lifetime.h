// A1 in one place: whether the emitter's scratch (gather list, reference and release lists,
// heap emit buffer, heap stage) lives for one pass or for the connection. Reused scratch keeps
// its capacity up to a bound and is returned when the connection closes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/allocator.h"
#include "core/scratch_vector.h"
#include "core/strategy.h"
#include "core/wire_limits.h"

namespace emitlab {

class ScratchLifetime {
 public:
  // Retention bounds for reused scratch; larger capacity is returned at the end of the pass.
  static constexpr std::size_t kRetainEntries = 4096;
  static constexpr std::size_t kRetainRefs = 2048;
  // The heap buffers keep up to one worst pass at the largest cap.
  static constexpr std::size_t kRetainBytes = StrategySpec::kMaxCap + kMaxFrame;
  static_assert(kRetainBytes > gather_worst_pass(StrategySpec::kMaxCap));

  explicit ScratchLifetime(bool reuse) : reuse_(reuse) {}
  bool reuse() const { return reuse_; }

  template <class T>
  void end_pass(ScratchVector<T>& list, std::size_t retain_limit) const {
    list.clear();
    if (!reuse_ || list.capacity() > retain_limit) list.release();
  }

 private:
  bool reuse_;
};

// A byte buffer from the Allocator port that grows by doubling.
class ScratchBytes {
 public:
  ScratchBytes(EmitterHeap& heap, AllocSite site) : heap_(&heap), site_(site) {}
  ~ScratchBytes() { release(); }
  ScratchBytes(const ScratchBytes&) = delete;
  ScratchBytes& operator=(const ScratchBytes&) = delete;

  std::uint8_t* data() const { return data_; }
  std::size_t capacity() const { return capacity_; }
  // Ensures room for `needed` bytes, keeping the first `keep`; returns the bytes it copied.
  std::size_t reserve(std::size_t needed, std::size_t keep, std::size_t minimum) {
    if (needed <= capacity_) return 0;
    std::size_t next = capacity_ == 0 ? minimum : capacity_ * 2;
    while (next < needed) next *= 2;
    auto* bigger = static_cast<std::uint8_t*>(heap_->allocate(next, site_));
    if (keep > 0) std::memcpy(bigger, data_, keep);
    heap_->deallocate(data_, site_);
    data_ = bigger;
    capacity_ = next;
    return keep;
  }
  void end_pass(const ScratchLifetime& lifetime) {
    if (!lifetime.reuse() || capacity_ > ScratchLifetime::kRetainBytes) release();
  }
  void release() {
    heap_->deallocate(data_, site_);
    data_ = nullptr;
    capacity_ = 0;
  }

 private:
  EmitterHeap* heap_;
  AllocSite site_;
  std::uint8_t* data_ = nullptr;
  std::size_t capacity_ = 0;
};

}  // namespace emitlab
