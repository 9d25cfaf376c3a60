// The simulated link between a server connection and its peer, as the server's Transport: the
// one write in flight (core/transport.h), and the bytes on their way in each direction with the
// instant each arrives. Whoever drives the link decides when a write completes: the world by its
// choices (ConnectionSlot), the test pump one step later (tests/support/pump.h), the benchmark
// fleet when its recording says so (bench/fleet.h), the TLS unit harness when its test says so
// (tests/support/tls_harness.h), the fuzz fixture as it settles (fuzz/live_server.h) and the
// counting allocator's test world one step later. A driver that completes writes from inside
// their submission (synchronous completions) listens for submits. The real-socket Transport
// (net/socket_connection.h) is the only other one.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>

#include "core/transport.h"
#include "sim/link.h"
#include "sim/sha256.h"

namespace emitlab::sim {

class SimLink final : public Transport {
 public:
  static constexpr std::uint64_t kUnbounded = std::numeric_limits<std::uint64_t>::max();

  class SubmitListener {
   public:
    // A write was submitted (it is inflight()); the listener may complete it at once.
    virtual void on_submit(std::span<const std::uint8_t> ciphertext) = 0;

   protected:
    ~SubmitListener() = default;
  };

  struct Options {
    std::uint64_t buffer = kUnbounded;  // bytes toward the peer before writes stop completing
    bool hash = false;                  // keep a SHA-256 of every submitted byte (digest())
    SubmitListener* listener = nullptr;
  };

  SimLink() : SimLink(Options{}) {}
  explicit SimLink(const Options& options);

  // Transport: the span stays valid until take() hands it back for its completion.
  void submit(std::span<const std::uint8_t> ciphertext) override;

  // The write in flight (empty when none).
  std::span<const std::uint8_t> inflight() const { return inflight_; }
  // The write in flight completes: its bytes, valid until the server hears of the completion.
  std::span<const std::uint8_t> take();
  // Bytes toward the peer fit: an empty link takes any write, so a write larger than the buffer
  // cannot wedge the run.
  bool has_room(std::size_t bytes) const;
  // The write in flight waits for the peer's reads to make room (set by the driver).
  bool blocked() const { return blocked_; }
  void set_blocked() { blocked_ = true; }

  ByteQueue& to_peer() { return to_peer_; }  // server -> peer
  const ByteQueue& to_peer() const { return to_peer_; }
  ByteQueue& to_server() { return to_server_; }  // peer -> server
  const ByteQueue& to_server() const { return to_server_; }
  // The connection dropped: nothing in flight or on its way any more.
  void drop();

  std::uint64_t submitted_bytes() const { return submitted_; }
  bool overlapped() const { return overlapped_; }  // a submit while a write was in flight
  std::optional<Digest> digest() const;            // with Options::hash

 private:
  std::uint64_t buffer_;
  SubmitListener* listener_;
  std::unique_ptr<Sha256> hash_;
  std::span<const std::uint8_t> inflight_;
  bool blocked_ = false;
  std::uint64_t submitted_ = 0;
  bool overlapped_ = false;
  ByteQueue to_peer_;
  ByteQueue to_server_;
};

}  // namespace emitlab::sim
