#include "core/allocator.h"

#include <cstdlib>
#include <new>

namespace emitlab {
namespace {

class SystemAllocator final : public Allocator {
 public:
  void* allocate(std::size_t bytes, AllocSite, std::uint64_t) override { return checked(bytes); }
  void deallocate(void* p, std::size_t, AllocSite, std::uint64_t) override { std::free(p); }
  void* allocate_body(std::size_t bytes) override { return checked(bytes); }
  void deallocate_body(void* p, std::size_t) override { std::free(p); }

 private:
  static void* checked(std::size_t bytes) {
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
};

}  // namespace

Allocator& system_allocator() {
  static SystemAllocator instance;
  return instance;
}

void* EmitterHeap::allocate(std::size_t bytes, AllocSite site) {
  const std::uint64_t pass = record_ != nullptr ? record_->index : 0;
  void* p = port_->allocate(bytes, site, pass);
  if (record_ != nullptr) {
    ++record_->allocs[static_cast<std::size_t>(site)];
    record_->alloc_bytes += bytes;
  }
  return p;
}

void EmitterHeap::deallocate(void* p, std::size_t bytes, AllocSite site) {
  if (p == nullptr) return;
  const std::uint64_t pass = record_ != nullptr ? record_->index : 0;
  port_->deallocate(p, bytes, site, pass);
  if (record_ != nullptr) ++record_->frees[static_cast<std::size_t>(site)];
}

}  // namespace emitlab
