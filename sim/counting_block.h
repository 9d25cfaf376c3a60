// Internal to the counting allocator and the OpenSSL hooks: the header every counted block
// carries, and the process-wide registry that lets an OpenSSL free find the allocator a block
// belongs to. Not a public header: include it from the counting allocator's parts
// (sim/guarded_heap.*, sim/counting_allocator.cpp) and sim/openssl_mem.cpp only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sim/alloc_ledger.h"  // detail::kNoSite

namespace emitlab::sim {

class CountingAllocator;

namespace detail {

inline constexpr std::uint32_t kBlockMagic =
    0xE1A110C8;  // site of a block not owned by the emitter

// In front of every block handed out (by a port or by the OpenSSL hooks). Its size is a
// multiple of max_align_t, so the pointer after it keeps malloc's alignment.
struct alignas(16) BlockHeader {
  std::uint64_t size;       // bytes the caller asked for
  std::uint64_t sequence;   // 1-based allocation attempt number in its allocator; 0: none
  std::uint64_t pass;       // pass of the allocation
  std::uint32_t allocator;  // id of the owning CountingAllocator; 0: unattributed (OpenSSL)
  std::uint32_t connection;
  std::uint8_t owner;        // emitlab::AllocOwner
  std::uint8_t site;         // emitlab::AllocSite, or kNoSite
  std::uint8_t quarantined;  // 1 once freed (poisoned, waiting in the quarantine)
  std::uint8_t reserved;
  std::uint32_t magic;   // kBlockMagic
  std::uint32_t spare;   // zero; with `magic`, keeps the canary in the last 4 bytes
  std::uint32_t canary;  // a checksum of the fields above except `quarantined`
};
static_assert(offsetof(BlockHeader, canary) + sizeof(std::uint32_t) == sizeof(BlockHeader));
static_assert(sizeof(BlockHeader) % alignof(std::max_align_t) == 0);
inline constexpr std::size_t kHeaderSize = sizeof(BlockHeader);

std::uint32_t header_canary(const BlockHeader& h);
inline void seal(BlockHeader& h) {
  h.canary = header_canary(h);
}
inline bool intact(const BlockHeader& h) {
  return h.canary == header_canary(h);
}

inline BlockHeader* header_of(void* user) {
  return reinterpret_cast<BlockHeader*>(static_cast<unsigned char*>(user) - kHeaderSize);
}
inline void* user_of(BlockHeader* h) {
  return reinterpret_cast<unsigned char*>(h) + kHeaderSize;
}

// The registry of live allocators (fixed size, never destroyed, so OpenSSL's atexit cleanup can
// still consult it after static destructors ran). Returns false when it is full.
std::uint32_t next_allocator_id();
bool register_allocator(std::uint32_t id, CountingAllocator* allocator);
// Removes `id` and, before an OpenSSL free can find it gone, runs abandon(allocator).
void unregister_allocator(std::uint32_t id, void (*abandon)(CountingAllocator&),
                          CountingAllocator& allocator);

}  // namespace detail
}  // namespace emitlab::sim
