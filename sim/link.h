// One direction of a simulated TCP connection: bytes in order, each segment with the instant it
// reaches the far side. Arrivals never overtake each other, whatever latency was drawn.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

namespace emitlab::sim {

class ByteQueue {
 public:
  // Returns the arrival instant: `earliest`, or later to keep the order.
  std::uint64_t push(std::uint64_t earliest, std::span<const std::uint8_t> bytes);
  std::uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::uint64_t arrived(std::uint64_t now) const;  // bytes whose arrival is <= now
  std::optional<std::uint64_t> next_arrival() const;
  // Up to `max` arrived bytes, in order.
  std::vector<std::uint8_t> take(std::uint64_t now, std::uint64_t max);
  void clear();
  // The bytes not yet taken and their arrivals relative to `now` (for the explorer's state).
  std::uint64_t digest(std::uint64_t now) const;

 private:
  struct Segment {
    std::uint64_t arrival;
    std::vector<std::uint8_t> bytes;
    std::size_t taken = 0;
  };
  std::deque<Segment> segments_;
  std::uint64_t size_ = 0;
  std::uint64_t last_arrival_ = 0;
};

}  // namespace emitlab::sim
