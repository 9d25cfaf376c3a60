// A growable array of trivially copyable entries whose storage comes from the Allocator port:
// allocated on first use with an initial capacity, doubled when full. clear() keeps the
// capacity (scratch reused across passes); release() returns it to the port.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

#include "core/allocator.h"

namespace emitlab {

template <class T>
class ScratchVector {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  ScratchVector(EmitterHeap& heap, AllocSite site, std::size_t initial_capacity)
      : heap_(&heap), site_(site), initial_(initial_capacity) {}
  ~ScratchVector() { release(); }
  ScratchVector(const ScratchVector&) = delete;
  ScratchVector& operator=(const ScratchVector&) = delete;

  void push_back(const T& value) {
    if (size_ == capacity_) grow();
    data_[size_++] = value;
  }
  T& back() { return data_[size_ - 1]; }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  std::span<T> items() { return {data_, size_}; }
  void clear() { size_ = 0; }
  void release() {
    heap_->deallocate(data_, site_);
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

 private:
  void grow() {
    const std::size_t next = capacity_ == 0 ? initial_ : capacity_ * 2;
    T* bigger = static_cast<T*>(heap_->allocate(next * sizeof(T), site_));
    if (size_ > 0) std::memcpy(bigger, data_, size_ * sizeof(T));
    heap_->deallocate(data_, site_);
    data_ = bigger;
    capacity_ = next;
  }

  EmitterHeap* heap_;
  AllocSite site_;
  std::size_t initial_;
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace emitlab
