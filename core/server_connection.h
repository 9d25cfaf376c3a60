// One server connection: TLS over memory rings, the HTTP/2 session and an emit strategy.
// Emit passes are requested by events (a response committed, a window reopened, a write
// completed) and run once the current call stack unwinds, like upstream's per-session
// microtask: never inside an nghttp2 callback and never nested inside another pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/allocator.h"
#include "core/emitter.h"
#include "core/h2_session.h"
#include "core/invariants.h"
#include "core/mutant.h"
#include "core/strategy.h"
#include "core/tls_connection.h"

namespace emitlab {

class ServerConnection;

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Called inside nghttp2's receive callback; the handler may respond now or later.
  virtual void on_request(ServerConnection& connection, ServerStream& stream) = 0;
};

// How many PassRecords a connection keeps besides its exact running totals. A long-lived
// connection must not grow with every pass (a record is about 200 bytes and a 64 KiB gather
// response takes several passes), so the default is a bounded recent window; the simulator and
// the benchmarks, which read every record, ask for kKeepAllPasses.
inline constexpr std::size_t kKeepAllPasses = std::numeric_limits<std::size_t>::max();
inline constexpr std::size_t kDefaultPassHistory = 64;
static_assert(kDefaultPassHistory > 0 && kDefaultPassHistory < kKeepAllPasses / 2);

struct ConnectionConfig {
  StrategySpec strategy;
  // At least the last pass_history records stay in passes() (up to twice that, so trimming is
  // amortised); kKeepAllPasses keeps every record. Must be at least 1.
  std::size_t pass_history = kDefaultPassHistory;
  // The plaintext ring grows to min_plaintext_ring() for the strategy's cap (A4's safety rule).
  TlsRingConfig rings;
  EmitterFactory emitter_factory;  // empty: make_emitter
  // A fault point of the bug zoo (core/mutant.h), armed for this connection only. An injected
  // emitter_factory builds its own emitter: the emitter's fault points stay off then.
  Mutant mutant = Mutant::None;
};

class ServerConnection final : private TlsListener, private SessionListener {
 public:
  ServerConnection(SSL_CTX* ctx, const ConnectionConfig& config, Transport& transport,
                   RequestHandler& handler, Allocator& allocator);
  ~ServerConnection() override;
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  void on_ciphertext(std::span<const std::uint8_t> ciphertext);
  void on_write_complete(std::size_t bytes);
  bool submit_response(std::int32_t stream_id, ResponseRef response);
  // Streaming responses: status, headers and trailers come from `head` (its body is ignored);
  // body chunks follow as they become available (copied into refcounted chunks allocated
  // through the Allocator port); end_body() ends the body (then trailers, if any).
  bool submit_streaming_response(std::int32_t stream_id, ResponseRef head);
  bool append_body_chunk(std::int32_t stream_id, std::span<const std::uint8_t> bytes);
  bool end_body(std::int32_t stream_id);
  // Server-side abort of a stream (RST_STREAM), e.g. a handler giving up mid-body.
  bool reset_stream(std::int32_t stream_id, std::uint32_t error_code);
  // Graceful: GOAWAY now; close_notify once every open stream has ended and every frame is out.
  void shutdown();
  // The transport died (the peer reset the socket, a write failed with EPIPE): nothing more can
  // go either way. The connection fails with "transport closed: REASON" (unless it had already
  // failed or closed), every open stream is cancelled and every reference and scratch buffer
  // the emitter holds is released now, counted in outside_passes(), not at destruction.
  void on_transport_closed(std::string_view reason);

  // The TLS connection failed, or the HTTP/2 session cannot go on.
  bool failed() const { return tls_.failed() || !session_->error().empty(); }
  const std::string& error() const { return tls_.failed() ? tls_.error() : session_->error(); }
  // What error() is about, as a value (None while healthy).
  FailureKind failure_kind() const {
    if (tls_.failed()) return tls_.failure_kind();
    return session_->error().empty() ? FailureKind::None : FailureKind::Session;
  }
  // The first broken invariant of the connection, its TLS layer, session and emitter, or empty.
  // Call it between calls into the connection (the explorer: after every step).
  std::string validate() const;
  bool closed() const { return tls_.state() == TlsConnection::State::Closed; }
  // Hybrid's latch counter: open streams latched as large (always 0 for other bases).
  std::uint32_t large_streams_pending() const { return large_streams_pending_; }
  const ConnectionConfig& config() const { return config_; }
  // Broken safety rules (core/invariants.h), in the order they happened.
  const std::vector<Violation>& violations() const { return invariants_.violations(); }
  // The retained records, oldest first (every record under kKeepAllPasses; otherwise at least
  // the last config().pass_history of them). Record i has index pass_count() - size() + i + 1.
  const std::vector<PassRecord>& passes() const { return passes_; }
  // Every pass run so far, retained or not.
  std::uint64_t pass_count() const { return pass_count_; }
  // Work done outside passes: the handshake, completions' drains, stream setup.
  const PassRecord& outside_passes() const { return outside_; }
  // Exact sums over outside_passes() and every pass ever run, retained or not.
  PassRecord totals() const;
  void set_pass_observer(std::function<void(const PassRecord&)> observer);
  // Called when a pass starts, before it does anything (its index; records start at 1).
  void set_pass_begin_observer(std::function<void(std::uint64_t)> observer);
  TlsConnection& tls() { return tls_; }
  H2ServerSession& session() { return *session_; }
  const Emitter& emitter() const { return *emitter_; }
  const H2ServerSession& session() const { return *session_; }

 private:
  class Entry;  // unwinds into the scheduled passes

  void run_scheduled();
  void close_if_session_over();
  // Cancels every open stream and frees the emitter's scratch, counted in outside_.
  void release_streams_and_scratch();
  void run_pass();
  void trim_history();
  void attach(PassRecord* record);
  void on_established() override;
  bool on_app_data(std::span<const std::uint8_t> data) override;
  void on_cipher_complete() override;
  bool plaintext_queued() const override;
  void on_request(ServerStream& stream) override;
  void request_emit() override;
  void emit_now() override;
  void drain_on_read_path();
  void on_stream_close(ServerStream& stream, std::uint32_t error_code) override;
  void latch_large(std::int32_t stream_id);
  static ConnectionConfig with_safe_rings(ConnectionConfig config);

  ConnectionConfig config_;
  RequestHandler* handler_;
  Allocator* allocator_;
  EmitterHeap heap_;
  std::unique_ptr<Emitter> emitter_;
  TlsConnection tls_;
  std::unique_ptr<H2ServerSession> session_;
  InvariantLog invariants_;
  PassRecord outside_;
  PassRecord* current_ = nullptr;
  std::vector<PassRecord> passes_;
  PassRecord pass_sums_;  // every finished pass, retained or not
  std::uint64_t pass_count_ = 0;
  std::function<void(const PassRecord&)> observer_;
  std::function<void(std::uint64_t)> begin_observer_;
  int depth_ = 0;
  bool emit_scheduled_ = false;
  bool shutting_down_ = false;
  std::uint32_t large_streams_pending_ = 0;
};

}  // namespace emitlab
