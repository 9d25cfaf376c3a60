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
  const bool slab = SlabHeap::fits(total);
  // The one place this heap takes memory for a block.
  void* raw = slab ? slabs_.take(total) : std::malloc(total);
  if (raw == nullptr) return nullptr;
  // Sealed before it is stored: a reused slot is usually out of the cache (it waited in the
  // quarantine), and reading the header back would wait for the line.
  BlockHeader sealed{bytes,      sequence,
                     pass,       id_,
                     connection, static_cast<std::uint8_t>(owner),
                     site,       0,
                     0,          detail::kBlockMagic,
                     0,          0};
  detail::seal(sealed);
  auto* h = static_cast<BlockHeader*>(raw);
  *h = sealed;
  void* user = detail::user_of(h);
  if (slab) return user;
  try {
    blocks_.insert(user);
  } catch (...) {
    std::free(raw);
    throw;
  }
  return user;
}

void GuardedHeap::discard(void* user) {
  BlockHeader* raw = header_of(user);
  if (slabs_.state(raw)) {
    slabs_.give(raw);
    return;
  }
  blocks_.erase(user);
  std::free(raw);
}

GuardedHeap::Admission GuardedHeap::admit(void* user) {
  // Ownership first, from this heap's own tables: only then is the header read.
  const auto* raw = reinterpret_cast<const unsigned char*>(user) - kHeaderSize;
  if (const std::optional<SlabHeap::Slot> slot = slabs_.state(raw)) {
    if (*slot == SlabHeap::Slot::Free) return Admission::Unknown;  // stale: freed and released
    if (*slot == SlabHeap::Slot::Quarantined) return Admission::Quarantined;
  } else {
    const std::optional<bool> quarantined = blocks_.marked(user);
    if (!quarantined) return Admission::Unknown;
    if (*quarantined) return Admission::Quarantined;
  }
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
  const std::size_t total = kHeaderSize + h->size;
  std::memset(user, kPoisonByte, h->size);
  if (quarantine_limit_ == 0) {
    discard(user);
    return;
  }
  // Room first: a failed push (a real out-of-memory) leaves the block live, not half-retired.
  Quarantined& q = quarantine_fifo_.emplace_back(Quarantined{user, total, {}});
  if (SlabHeap::fits(total)) {
    q.slot = slabs_.quarantine(h);
  } else {
    blocks_.mark(user);
  }
  quarantine_bytes_ += total;
  while (quarantine_bytes_ > quarantine_limit_ && quarantine_fifo_.size() > 1) {
    const Quarantined oldest = quarantine_fifo_.front();
    quarantine_fifo_.pop_front();
    release(oldest);
  }
}

void GuardedHeap::release(const Quarantined& q) {
  quarantine_bytes_ -= q.total;
  // The size is the one read at the free, so a header damaged while quarantined cannot pick the
  // slot's class or the bytes returned; the header itself is not read again.
  if (SlabHeap::fits(q.total)) {
    slabs_.give(q.slot);
    return;
  }
  blocks_.erase(q.user);
  std::free(header_of(q.user));
}

void GuardedHeap::drain() {
  for (const Quarantined& q : quarantine_fifo_) release(q);
  quarantine_fifo_.clear();
  quarantine_bytes_ = 0;
}

void GuardedHeap::abandon() {
  drain();
  slabs_.abandon();
}

std::vector<Leak> GuardedHeap::leaks() const {
  std::vector<Leak> out;
  auto add = [&out](void* user) {
    const BlockHeader& h = *header_of(user);
    out.push_back(
        {h.sequence, h.connection, static_cast<AllocOwner>(h.owner),
         h.site == detail::kNoSite ? std::nullopt : std::optional(static_cast<AllocSite>(h.site)),
         h.pass, h.size});
  };
  // Both walks are in address order; sorted below.
  slabs_.for_each_live([&add](void* raw) { add(detail::user_of(static_cast<BlockHeader*>(raw))); });
  blocks_.for_each([this, &add](void* user) {
    if (!blocks_.marked(user).value_or(true)) add(user);
  });
  std::sort(out.begin(), out.end(),
            [](const Leak& a, const Leak& b) { return a.sequence < b.sequence; });
  return out;
}

}  // namespace emitlab::sim
