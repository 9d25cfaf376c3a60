#include "core/allocator.h"

#include <cstdlib>
#include <new>

namespace emitlab {
namespace {

class SystemAllocator final : public Allocator {
 public:
  void* allocate(std::size_t bytes, const AllocTag&) override {
    return std::malloc(bytes == 0 ? 1 : bytes);
  }
  void deallocate(void* p, const AllocTag&) override { std::free(p); }
  void* reallocate(void* p, std::size_t bytes, const AllocTag&) override {
    return std::realloc(p, bytes);
  }
};

}  // namespace

Allocator& system_allocator() {
  static SystemAllocator instance;
  return instance;
}

std::string_view to_string(AllocOwner owner) {
  switch (owner) {
    case AllocOwner::Emitter:
      return "emitter";
    case AllocOwner::Nghttp2:
      return "nghttp2";
    case AllocOwner::Response:
      return "response";
    case AllocOwner::OpenSsl:
      return "openssl";
    case AllocOwner::kCount:
      break;
  }
  return "?";
}

void* EmitterHeap::allocate(std::size_t bytes, AllocSite site) {
  const std::uint64_t pass = record_ != nullptr ? record_->index : 0;
  void* p = port_->allocate(bytes, {AllocOwner::Emitter, site, pass});
  if (p == nullptr) throw std::bad_alloc();
  if (record_ != nullptr) {
    ++record_->allocs[static_cast<std::size_t>(site)];
    record_->alloc_bytes += bytes;
  }
  return p;
}

void EmitterHeap::deallocate(void* p, AllocSite site) {
  if (p == nullptr) return;
  const std::uint64_t pass = record_ != nullptr ? record_->index : 0;
  port_->deallocate(p, {AllocOwner::Emitter, site, pass});
  if (record_ != nullptr) ++record_->frees[static_cast<std::size_t>(site)];
}

}  // namespace emitlab
