// What the world shows of a run as it happens: traces (sim/trace.h) and captures
// (sim/pcap_writer.h) implement this. Times are virtual nanoseconds; `c` is the connection.
#pragma once

#include <cstdint>
#include <span>

#include "core/pass_record.h"
#include "sim/sim_peer.h"

namespace emitlab::sim {

class WorldObserver {
 public:
  virtual ~WorldObserver() = default;
  virtual void on_connection_start(std::uint64_t /*t*/, std::uint32_t /*c*/) {}
  virtual void on_pass_begin(std::uint64_t /*t*/, std::uint32_t /*c*/, std::uint64_t /*pass*/) {}
  virtual void on_pass_end(std::uint64_t /*t*/, std::uint32_t /*c*/, const PassRecord& /*r*/) {}
  virtual void on_write_submit(std::uint64_t /*t*/, std::uint32_t /*c*/, std::size_t /*bytes*/,
                               bool /*sync*/) {}
  // Server ciphertext enters the link (its write completed).
  virtual void on_write_complete(std::uint64_t /*t*/, std::uint32_t /*c*/,
                                 std::span<const std::uint8_t> /*bytes*/) {}
  virtual void on_peer_read(std::uint64_t /*t*/, std::uint32_t /*c*/, std::size_t /*bytes*/,
                            std::uint64_t /*left_in_link*/) {}
  // Client ciphertext leaves the peer, and later reaches the server.
  virtual void on_client_flush(std::uint64_t /*t*/, std::uint32_t /*c*/,
                               std::span<const std::uint8_t> /*bytes*/) {}
  virtual void on_deliver(std::uint64_t /*t*/, std::uint32_t /*c*/, std::size_t /*bytes*/,
                          bool /*after_pass*/) {}
  // A frame the peer received (outbound false: sent by the server) or sent.
  virtual void on_frame(std::uint64_t /*t*/, std::uint32_t /*c*/, const FrameInfo& /*f*/,
                        bool /*outbound*/) {}
  virtual void on_connection_end(std::uint64_t /*t*/, std::uint32_t /*c*/, bool /*aborted*/) {}
};

}  // namespace emitlab::sim
