#include "sim/guarded_heap.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

namespace emitlab::sim {

using detail::BlockHeader;
using detail::header_of;
using detail::kHeaderSize;

namespace detail {

std::uint32_t header_canary(const BlockHeader& h) {
  // A multiply-xor fold of every field except `quarantined`: any stray write into the header
  // (an underflow of the block before or of this one) changes it with near certainty.
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  auto mix = [&x](std::uint64_t v) {
    x = (x ^ v) * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 31;
  };
  mix(h.size);
  mix(h.sequence);
  mix(h.pass);
  mix((std::uint64_t{h.allocator} << 32) | h.connection);
  mix((std::uint64_t{h.magic} << 32) | (std::uint64_t{h.spare} << 24) |
      (std::uint64_t{h.owner} << 16) | (std::uint64_t{h.site} << 8) | h.reserved);
  return static_cast<std::uint32_t>(x ^ (x >> 32));
}

}  // namespace detail

std::string to_string(const Leak& l) {
  return "block #" + std::to_string(l.sequence) + ": connection " + std::to_string(l.connection) +
         ", owner " + std::string(to_string(l.owner)) +
         (l.site ? ", site " + std::string(to_string(*l.site)) : std::string()) + ", pass " +
         std::to_string(l.pass) + ", " + std::to_string(l.bytes) + " bytes";
}

void* GuardedHeap::carve(std::size_t bytes, std::uint64_t sequence, std::uint32_t connection,
                         AllocOwner owner, std::uint8_t site, std::uint64_t pass) {
  if (bytes > std::numeric_limits<std::size_t>::max() - kHeaderSize) return nullptr;
  const std::size_t total = kHeaderSize + bytes;
  // The one place this heap takes a block from the system heap.
  void* raw = cache_.take(total);
  if (raw == nullptr) raw = std::malloc(BlockCache::rounded(total));
  if (raw == nullptr) return nullptr;
  auto* h = static_cast<BlockHeader*>(raw);
  *h = BlockHeader{bytes,      sequence,
                   pass,       id_,
                   connection, static_cast<std::uint8_t>(owner),
                   site,       0,
                   0,          detail::kBlockMagic,
                   0,          0};
  detail::seal(*h);
  void* user = detail::user_of(h);
  try {
    blocks_.insert(user);
  } catch (...) {
    std::free(raw);
    throw;
  }
  return user;
}

void GuardedHeap::discard(void* user) {
  blocks_.erase(user);
  std::free(header_of(user));
}

GuardedHeap::Admission GuardedHeap::admit(void* user) {
  const std::optional<bool> quarantined = blocks_.marked(user);
  if (!quarantined) return Admission::Unknown;
  if (*quarantined) return Admission::Quarantined;
  BlockHeader* h = header_of(user);
  if (!detail::intact(*h)) {
    // Size and owner are untrustworthy: release the memory; the counts stay as they are.
    discard(user);
    return Admission::Corrupt;
  }
  return Admission::Live;
}

void GuardedHeap::retire(void* user) {
  BlockHeader* h = header_of(user);
  h->quarantined = 1;
  std::memset(user, kPoisonByte, h->size);
  if (quarantine_limit_ == 0) {
    discard(user);
    return;
  }
  blocks_.mark(user);
  quarantine_fifo_.push_back(user);
  quarantine_bytes_ += kHeaderSize + h->size;
  while (quarantine_bytes_ > quarantine_limit_ && quarantine_fifo_.size() > 1) {
    void* oldest = quarantine_fifo_.front();
    quarantine_fifo_.pop_front();
    release(oldest);
  }
}

void GuardedHeap::release(void* user) {
  BlockHeader* h = header_of(user);
  quarantine_bytes_ -= kHeaderSize + h->size;
  blocks_.erase(user);
  // A header damaged while quarantined may name the wrong size, which would put the block in a
  // class bigger than its memory: only an intact one is reused.
  if (detail::intact(*h)) {
    cache_.give(h, kHeaderSize + h->size);
  } else {
    std::free(h);
  }
}

void GuardedHeap::drain() {
  for (void* user : quarantine_fifo_) discard(user);
  quarantine_fifo_.clear();
  quarantine_bytes_ = 0;
  cache_.clear();
}

std::vector<Leak> GuardedHeap::leaks() const {
  std::vector<Leak> out;
  blocks_.for_each([this, &out](void* user) {  // address order; sorted below
    if (blocks_.marked(user).value_or(true)) return;
    const BlockHeader& h = *header_of(user);
    out.push_back(
        {h.sequence, h.connection, static_cast<AllocOwner>(h.owner),
         h.site == detail::kNoSite ? std::nullopt : std::optional(static_cast<AllocSite>(h.site)),
         h.pass, h.size});
  });
  std::sort(out.begin(), out.end(),
            [](const Leak& a, const Leak& b) { return a.sequence < b.sequence; });
  return out;
}

}  // namespace emitlab::sim
