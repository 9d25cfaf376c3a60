// The real server's Allocator port: malloc, plus a count of the blocks each owner still holds.
// With no connection open every count must be zero: a block left means a reference (or a
// scratch buffer) the emitter never released. Single-threaded, like the server's loop.
#pragma once

#include <array>
#include <cstdint>

#include "core/allocator.h"

namespace emitlab::net {

class LiveAllocator final : public Allocator {
 public:
  void* allocate(std::size_t bytes, const AllocTag& tag) override;
  void deallocate(void* p, const AllocTag& tag) override;
  void* reallocate(void* p, std::size_t bytes, const AllocTag& tag) override;
  std::uint64_t live(AllocOwner owner) const { return live_[static_cast<std::size_t>(owner)]; }

 private:
  std::array<std::uint64_t, kAllocOwners> live_{};
};

}  // namespace emitlab::net
