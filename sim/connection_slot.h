// One connection of the world: the real ServerConnection, its simulated peer and the link
// between them, driven by the world's events. It is the server's Transport (write submissions
// complete synchronously or later, when the link has room) and its RequestHandler (responses of
// every kind, immediately or after a chosen delay, streaming bodies chunk by chunk).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/response.h"
#include "core/server_connection.h"
#include "sim/choice.h"
#include "sim/deterministic_tls.h"
#include "sim/link.h"
#include "sim/observer.h"
#include "sim/openssl_mem.h"
#include "sim/scenario.h"
#include "sim/scheduler.h"
#include "sim/sim_peer.h"
#include "sim/workload.h"
#include "sim/world.h"

namespace emitlab::sim {

class CountingAllocator;

// What every connection of a world shares.
struct WorldContext {
  const Scenario& scenario;
  const Workload& workload;
  Chooser& chooser;
  Scheduler& scheduler;
  DeterministicTls& tls;
  CountingAllocator& counting;
  ResponseObject* shared_body;  // the immutable shared response (null when none is planned)
  const std::vector<WorldObserver*>& observers;
  bool keep_bytes;
  bool keep_bodies;
  bool keep_history;                      // RunOptions::keep_history
  RunStats& stats;                        // the world's running statistics
  const EmitterFactory& emitter_factory;  // empty: core's make_emitter
  std::atomic<std::uint64_t>* progress;   // RunOptions::progress
};

class ConnectionSlot final : public Transport, public RequestHandler {
 public:
  ConnectionSlot(WorldContext& world, std::uint32_t index, std::uint64_t first_request_id,
                 std::uint32_t requests);
  ~ConnectionSlot() override;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

  void handle(const Event& event);
  // Tears the server connection down (before the world's allocator and TLS contexts go).
  void close_server();
  ConnectionResult result() const;
  // For the explorer (sim/explore.h says what the digest covers).
  bool in_server_call() const { return server_calls_ > 0; }
  bool handshaking() const;
  std::uint64_t state_digest(std::uint64_t now) const;
  // The server connection's validate() (core), between calls into it; empty when it holds or
  // when there is no connection to check (not built yet, torn down, or inside a call).
  std::string validate() const {
    return server_ != nullptr && server_calls_ == 0 ? server_->validate() : std::string{};
  }

 private:
  struct Producer {  // a streaming body being produced
    std::uint64_t request_id;
    ResponsePlan plan;
    std::uint64_t offset = 0;
  };
  struct Delayed {  // a response the handler has not given yet
    std::uint64_t request_id;
    HeaderTable request;
  };

  // Transport and RequestHandler (called by the server).
  void submit(std::span<const std::uint8_t> ciphertext) override;
  void on_request(ServerConnection& connection, ServerStream& stream) override;

  // A call into the server: OpenSSL's allocations are charged to this connection, and to the
  // pass that runs inside the call (on_pass_begin). Scopes must end in reverse order, so the
  // call that saw a pass begin also ends its scope if the pass did not finish normally.
  class ServerCall {
   public:
    explicit ServerCall(ConnectionSlot& slot)
        : slot_(&slot),
          inside_pass_(slot.pass_scope_.has_value()),
          scope_(slot.w_.counting, slot.index_, inside_pass_ ? slot.pass_scope_->pass() : 0) {
      ++slot.server_calls_;
    }
    ~ServerCall() {
      --slot_->server_calls_;
      if (!inside_pass_) slot_->pass_scope_.reset();
    }
    ServerCall(const ServerCall&) = delete;
    ServerCall& operator=(const ServerCall&) = delete;

   private:
    ConnectionSlot* slot_;
    bool inside_pass_;
    OpenSslAttribution scope_;
  };
  ServerCall charge_openssl() { return ServerCall(*this); }
  void start();
  bool alive() const { return server_ != nullptr && !aborted_; }
  // Server side
  void respond(std::int32_t stream_id, std::uint64_t request_id, const HeaderTable& request);
  void respond_delayed(std::int32_t stream_id);
  void produce_chunk(std::int32_t stream_id);
  void deliver(bool after_pass);
  void on_pass_begin(std::uint64_t pass);
  void on_pass(const PassRecord& record);
  void try_complete();
  void complete_write();
  bool link_has_room(std::size_t bytes) const;
  // Peer side
  void peer_read();
  void wake_reader(std::uint64_t arrival);
  void after_read();
  void flush_peer();
  void window_tick();
  void ensure_window_tick();
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
  int server_calls_ = 0;  // ServerCalls on the stack

  // server -> peer
  std::span<const std::uint8_t> inflight_;  // the write being submitted, until it completes
  bool blocked_ = false;                    // its completion waits for room in the link
  ByteQueue to_peer_;
  bool read_scheduled_ = false;
  // peer -> server
  ByteQueue to_server_;
  bool window_tick_scheduled_ = false;
  std::uint32_t goaway_seen_completed_ = 0;
  std::uint64_t progress_reported_ = 0;  // requests of this connection counted into progress

  std::map<std::int32_t, Producer> producers_;
  std::map<std::int32_t, Delayed> delayed_;
  // Kept when the server connection is torn down (ConnectionResult says what they are).
  std::vector<::emitlab::Violation> violations_;
  std::uint32_t latch_counter_at_close_ = 0;
  std::uint32_t latched_open_at_close_ = 0;
  std::uint32_t open_streams_at_close_ = 0;
  // While a pass runs, OpenSSL's allocations are charged to it (nested in the ServerCall's
  // scope, and ended before it).
  std::optional<OpenSslAttribution> pass_scope_;
};

}  // namespace emitlab::sim
