// The Allocator port: every heap allocation the emitter makes for its own bookkeeping goes
// through it, tagged with the pass and the site, so a counting world can attribute it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/pass_record.h"

namespace emitlab {

// Who asked for memory. OpenSSL's allocations are observed by the world itself (through
// CRYPTO_set_mem_functions, process-wide), so they never come through a connection's port.
enum class AllocOwner : std::uint8_t { Emitter, Nghttp2, Response, OpenSsl, kCount };
inline constexpr std::size_t kAllocOwners = static_cast<std::size_t>(AllocOwner::kCount);
std::string_view to_string(AllocOwner owner);

struct AllocTag {
  AllocOwner owner = AllocOwner::Emitter;
  AllocSite site = AllocSite::GatherList;  // meaningful for the emitter only
  std::uint64_t pass = 0;                  // 0: outside any pass
};

// Response bodies come through here too, so a poisoning allocator can reveal a body freed
// while a gather list still points into it. nghttp2's allocations come through nghttp2_mem.
class Allocator {
 public:
  virtual ~Allocator() = default;
  // nullptr when the allocation fails (a world may fail any allocation on purpose).
  virtual void* allocate(std::size_t bytes, const AllocTag& tag) = 0;
  virtual void deallocate(void* p, const AllocTag& tag) = 0;
  virtual void* reallocate(void* p, std::size_t bytes, const AllocTag& tag) = 0;
};

// malloc-backed allocator for runs that do not count.
Allocator& system_allocator();

// The emitter's view of the port: it charges every allocation to the current pass record.
class EmitterHeap {
 public:
  explicit EmitterHeap(Allocator& port) : port_(&port) {}
  void attach(PassRecord* record) { record_ = record; }
  // Throws std::bad_alloc when the port refuses.
  void* allocate(std::size_t bytes, AllocSite site);
  void deallocate(void* p, AllocSite site);
  Allocator& port() const { return *port_; }

 private:
  Allocator* port_;
  PassRecord* record_ = nullptr;
};

}  // namespace emitlab
