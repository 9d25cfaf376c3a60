// The HTTP/2 server session: one nghttp2 server session with upstream's settings, its streams,
// and the data provider that serves refcounted response bodies. It never sends by itself: it
// asks its listener for an emit pass, and the pass drives mem_send (drain) or session_send with
// an EmitSink attached (gather). While a sink is attached the provider is NO_COPY; otherwise it
// copies the body into nghttp2's frame buffer.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/allocator.h"
#include "core/header_table.h"
#include "core/mutant.h"
#include "core/nghttp2_handles.h"
#include "core/pass_record.h"
#include "core/response.h"

namespace emitlab {

struct ServerStream {
  std::int32_t id = 0;
  HeaderTable request;
  ResponseRef response;         // the stream's own reference, dropped at stream close
  std::size_t body_offset = 0;  // next body byte to hand to nghttp2
  bool responded = false;
  bool trailers_submitted = false;
  bool counted_large = false;  // hybrid's per-stream latch: only H2ServerSession::latch() sets it
  // A3: the emitter's one reference for the whole stream (nullptr for immutable bodies).
  ResponseObject* emitter_ref = nullptr;
  bool emitter_ref_taken = false;
  // Streaming bodies: chunks queued by the producer, each a refcounted object owned by the
  // queue until nghttp2 has copied it (as in 597a474, streamed DATA is always copied). A list,
  // not a deque: an empty deque already holds two heap blocks, and most streams never stream.
  bool streaming = false;
  bool body_ended = false;
  bool deferred = false;  // the provider returned DEFERRED; a chunk or the end resumes it
  std::list<ResponseRef> chunks;
  std::size_t chunk_offset = 0;  // bytes of chunks.front() already handed over
};

// Gather's side of nghttp2_session_send (upstream's emit_state).
class EmitSink {
 public:
  virtual ~EmitSink() = default;
  // send_callback: copy all of `bytes` or return NGHTTP2_ERR_WOULDBLOCK.
  virtual ssize_t on_send(std::span<const std::uint8_t> bytes) = 0;
  // send_data_callback for a NO_COPY DATA frame: 9-byte header plus `length` body bytes at the
  // stream's offset; return 0, NGHTTP2_ERR_WOULDBLOCK or an error.
  virtual int on_send_data(const std::uint8_t* framehd, std::size_t length,
                           ServerStream& stream) = 0;
};

class SessionListener {
 public:
  virtual ~SessionListener() = default;
  // A complete request; the handler may call submit_response now or later.
  virtual void on_request(ServerStream& stream) = 0;
  // Something wants an emit pass (never run from inside an nghttp2 callback).
  virtual void request_emit() = 0;
  // Runs the requested pass at once, wherever the caller is: only the emit-inside-callback
  // mutant calls it (core/mutant.h), from inside nghttp2's WINDOW_UPDATE callback.
  virtual void emit_now() = 0;
  // Fires inside send/mem_send right after END_STREAM or a reset, before the owner drops its ref.
  virtual void on_stream_close(ServerStream& stream, std::uint32_t error_code) = 0;
};

// Floods: frames a peer sends to make the server queue or do work for it without end
// (CVE-2019-9512 PING, -9515 SETTINGS, -9518 empty frames, CVE-2023-44487 rapid reset). The
// server defends itself the way nghttp2 intends for its outbound-ACK limit: GOAWAY with
// ENHANCE_YOUR_CALM (nghttp2_session_terminate_session), then close once it is out.
enum class Flood : std::uint8_t { None, PingAck, SettingsAck, Reset, EmptyData };
std::string_view to_string(Flood f);

struct FloodLimits {
  // PING and SETTINGS ACKs queued and not yet serialized (upstream's max_outbound_ack(64));
  // nghttp2 refuses the next ACK with NGHTTP2_ERR_FLOODED.
  static constexpr std::size_t kMaxOutboundAck = 64;
  // RST_STREAM frames from the peer over the connection's life: nghttp2's default burst. Its
  // refill (33 a second) reads the host's monotonic clock, which would make a run depend on
  // host speed, so emitlab refills nothing: the limit is per connection.
  static constexpr std::uint64_t kMaxPeerResets = 1000;
  // Consecutive DATA frames with no payload and no END_STREAM, over all streams (HEADERS or a
  // DATA frame with payload or END_STREAM starts the count again). nghttp2 has no guard of its
  // own; Envoy's max_consecutive_inbound_frames_with_empty_payload is the model, with room.
  static constexpr std::uint32_t kMaxEmptyDataFrames = 100;
};
static_assert(FloodLimits::kMaxOutboundAck > 0 && FloodLimits::kMaxEmptyDataFrames > 0);

class H2ServerSession {
 public:
  // `mutant`: the bug zoo's fault points of the session (core/mutant.h), None in production.
  H2ServerSession(SessionListener& listener, Allocator& allocator, Mutant mutant = Mutant::None);
  // Streams still open are closed through the listener (CANCEL) before nghttp2 goes away.
  ~H2ServerSession();
  H2ServerSession(const H2ServerSession&) = delete;
  H2ServerSession& operator=(const H2ServerSession&) = delete;

  // Peer bytes (decrypted). Returns false on a fatal nghttp2 error.
  bool feed(std::span<const std::uint8_t> data);
  bool submit_response(std::int32_t stream_id, ResponseRef response);
  bool submit_streaming_response(std::int32_t stream_id, ResponseRef head);
  bool append_body_chunk(std::int32_t stream_id, ResponseRef chunk);
  bool end_body(std::int32_t stream_id);
  bool reset_stream(std::int32_t stream_id, std::uint32_t error_code);
  void submit_goaway();

  // Why the session cannot go on (setup refused, nghttp2 terminated it, the peer flooded);
  // empty while healthy.
  const std::string& error() const { return error_; }
  // The flood the session defended itself against (None: none). The GOAWAY is queued when it is
  // set; the connection closes after it.
  Flood flood() const { return flood_; }
  bool want_write() const;
  bool want_read() const;
  nghttp2_session* raw() const { return session_.get(); }
  void attach_sink(EmitSink* sink) { sink_ = sink; }
  void attach(PassRecord* record) { record_ = mem_route_.record = record; }
  // Where nghttp2's allocations go and which pass they are charged to.
  struct MemRoute {
    Allocator* alloc;
    PassRecord* record;
  };
  bool in_callback() const { return callback_depth_ > 0; }
  std::size_t open_streams() const { return streams_.size(); }
  // The connection is gone: every open stream ends here (the listener sees each close, with
  // CANCEL), while the session can still count what that releases. nghttp2 is not called again.
  void cancel_open_streams();
  // Hybrid's latch on one open stream (a body above the threshold, or streaming): latch() sets
  // it and unlatch() clears it, each returning whether it changed; a stream that leaves the
  // session latched is unlatched then. The session counts latched streams as the flag changes,
  // so a pass reads the count in constant time; validate() recounts them.
  bool latch(ServerStream& stream);
  bool unlatch(ServerStream& stream);
  std::uint32_t latched_open_streams() const { return latched_open_; }
  std::uint64_t streams_closed() const { return streams_closed_; }
  std::uint64_t streams_reset() const { return streams_reset_; }
  ServerStream* find(std::int32_t stream_id);
  // The session's invariants between calls (no callback running, no sink attached, each stream
  // consistent with its key and its body, the latch count equal to the flags): the first one
  // broken, or empty. Linear in the open streams, with no nghttp2 call: cheap enough for every
  // step.
  std::string validate() const;

 private:
  struct Callbacks;
  bool submit(ServerStream& stream, ResponseRef head, bool streaming);
  void resume_if_deferred(ServerStream& stream);
  void refuse(ServerStream& stream);
  void count_copy(std::size_t bytes);
  void pop_chunk(ServerStream& stream);
  // Called inside nghttp2's callbacks or after mem_recv; the first flood wins.
  void note_flood(Flood kind, std::string detail);
  void defend_if_flooded();
  void erase(std::map<std::int32_t, std::unique_ptr<ServerStream>>::iterator it);
  static nghttp2_mem counting_mem(H2ServerSession* self);

  SessionListener* listener_;
  Mutant mutant_;
  MemRoute mem_route_;
  EmitSink* sink_ = nullptr;
  PassRecord* record_ = nullptr;
  int callback_depth_ = 0;
  std::uint64_t streams_closed_ = 0;
  std::uint64_t streams_reset_ = 0;
  std::uint64_t peer_resets_ = 0;
  std::uint32_t latched_open_ = 0;    // open streams with counted_large set
  std::uint32_t empty_data_run_ = 0;  // consecutive empty DATA frames without END_STREAM
  Flood flood_ = Flood::None;
  bool goaway_queued_ = false;  // ENHANCE_YOUR_CALM submitted
  std::string error_;
  // Streams are keyed by id (deterministic order); nodes are stable for nghttp2's pointers.
  std::map<std::int32_t, std::unique_ptr<ServerStream>> streams_;
  NgSessionPtr session_;
};

}  // namespace emitlab
