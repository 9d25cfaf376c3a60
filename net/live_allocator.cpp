#include "net/live_allocator.h"

#include <cstdlib>

namespace emitlab::net {

void* LiveAllocator::allocate(std::size_t bytes, const AllocTag& tag) {
  void* p = std::malloc(bytes == 0 ? 1 : bytes);
  if (p != nullptr) ++live_[static_cast<std::size_t>(tag.owner)];
  return p;
}

void LiveAllocator::deallocate(void* p, const AllocTag& tag) {
  if (p == nullptr) return;
  --live_[static_cast<std::size_t>(tag.owner)];
  std::free(p);
}

void* LiveAllocator::reallocate(void* p, std::size_t bytes, const AllocTag& tag) {
  if (p == nullptr) return allocate(bytes, tag);
  return std::realloc(p, bytes == 0 ? 1 : bytes);  // on failure the old block stays live
}

}  // namespace emitlab::net
