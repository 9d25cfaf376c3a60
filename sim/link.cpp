#include "sim/link.h"

#include <algorithm>
#include <limits>

#include "sim/prng.h"

namespace emitlab::sim {

std::uint64_t ByteQueue::push(std::uint64_t earliest, std::span<const std::uint8_t> bytes) {
  last_arrival_ = std::max(last_arrival_, earliest);
  if (!bytes.empty()) {
    segments_.push_back({last_arrival_, {bytes.begin(), bytes.end()}});
    size_ += bytes.size();
  }
  return last_arrival_;
}

std::uint64_t ByteQueue::arrived(std::uint64_t now) const {
  std::uint64_t n = 0;
  for (const Segment& s : segments_) {
    if (s.arrival > now) break;
    n += s.bytes.size() - s.taken;
  }
  return n;
}

std::optional<std::uint64_t> ByteQueue::next_arrival() const {
  if (segments_.empty()) return std::nullopt;
  return segments_.front().arrival;
}

std::vector<std::uint8_t> ByteQueue::take(std::uint64_t now, std::uint64_t max) {
  std::vector<std::uint8_t> out;
  while (!segments_.empty() && out.size() < max) {
    Segment& s = segments_.front();
    if (s.arrival > now) break;
    const std::size_t n = std::min<std::uint64_t>(s.bytes.size() - s.taken, max - out.size());
    // The common case hands a whole segment over without a copy.
    if (out.empty() && s.taken == 0 && n == s.bytes.size()) {
      out = std::move(s.bytes);
    } else {
      out.insert(out.end(), s.bytes.begin() + static_cast<std::ptrdiff_t>(s.taken),
                 s.bytes.begin() + static_cast<std::ptrdiff_t>(s.taken + n));
    }
    s.taken += n;
    size_ -= n;
    if (s.taken == s.bytes.size() || s.bytes.empty()) segments_.pop_front();
  }
  return out;
}

void ByteQueue::clear() {
  segments_.clear();
  size_ = 0;
}

}  // namespace emitlab::sim

namespace emitlab::sim {

std::uint64_t ByteQueue::digest(std::uint64_t now) const {
  std::uint64_t h = mix_all(size_, last_arrival_ > now ? last_arrival_ - now : 0);
  for (const Segment& s : segments_) {
    h = mix_all(h, s.arrival > now ? s.arrival - now : 0);
    h = mix_all(h, digest_bytes(std::span(s.bytes).subspan(s.taken)));
  }
  return h;
}

}  // namespace emitlab::sim
