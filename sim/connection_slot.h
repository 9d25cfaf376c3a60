// One connection of the world: the real ServerConnection, its simulated peer and the link
// between them (sim/sim_link.h), driven by the world's events. The slot decides the link's
// timing (a write completes inside its submit or later, when the link has room; the peer reads
// chosen chunks at chosen times), sets up and tears down the server, and reports the
// connection's result. The request handler (sim/workload_handler.h) and the peer's faults
// (sim/peer_faults.h) are its parts.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/server_connection.h"
#include "sim/peer_faults.h"
#include "sim/server_call.h"
#include "sim/sim_link.h"
#include "sim/sim_peer.h"
#include "sim/workload_handler.h"
#include "sim/world.h"
#include "sim/world_context.h"

namespace emitlab::sim {

class ConnectionSlot final : private SimLink::SubmitListener {
 public:
  ConnectionSlot(WorldContext& world, std::uint32_t index, std::uint64_t first_request_id,
                 std::uint32_t requests);
  ~ConnectionSlot();
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

  void handle(const Event& event);
  // Tears the server connection down (before the world's allocator and TLS contexts go).
  void close_server();
  ConnectionResult result() const;
  // For the explorer (sim/explore.h says what the digest covers).
  bool in_server_call() const { return calls_.active(); }
  bool handshaking() const;
  std::uint64_t state_digest(std::uint64_t now) const;
  // The server connection's validate() (core), between calls into it; empty when it holds or
  // when there is no connection to check (not built yet, torn down, or inside a call).
  std::string validate() const {
    return server_ != nullptr && !calls_.active() ? server_->validate() : std::string{};
  }

 private:
  // How a submitted write completes (SimLink::SubmitListener, called by the server's submit).
  void on_submit(std::span<const std::uint8_t> ciphertext) override;

  ServerCall charge_openssl() { return ServerCall(calls_); }
  void start();
  bool alive() const { return server_ != nullptr && !aborted_; }
  // Server side
  void deliver(bool after_pass);
  void on_pass_begin(std::uint64_t pass);
  void on_pass(const PassRecord& record);
  void try_complete();
  void complete_write();
  // Peer side
  void peer_read();
  void wake_reader(std::uint64_t arrival);
  void flush_peer();
  void window_tick();
  void abort();
  // "server connection failed: ERROR" while the server lives and has failed, else empty.
  std::string server_failed_text() const;
  void settle();
  void report_progress();
  // Observers
  template <class F>
  void notify(F&& f);

  WorldContext& w_;
  std::uint32_t index_;
  std::uint32_t requests_;
  SimPeer peer_;
  std::unique_ptr<ServerConnection> server_;
  std::string server_failure_;      // the server could not be built, or failed before teardown
  std::vector<PassRecord> passes_;  // kept when the server connection is torn down
  PassRecord totals_;
  bool aborted_ = false;
  bool shutdown_sent_ = false;
  ServerCalls calls_;
  SimLink link_;
  bool read_scheduled_ = false;
  std::uint64_t progress_reported_ = 0;  // requests of this connection counted into progress
  WorkloadHandler handler_;
  PeerFaults faults_;
  // Kept when the server connection is torn down (ConnectionResult says what they are).
  std::vector<::emitlab::Violation> violations_;
  std::uint32_t latch_counter_at_close_ = 0;
  std::uint32_t latched_open_at_close_ = 0;
  std::uint32_t open_streams_at_close_ = 0;
};

}  // namespace emitlab::sim
