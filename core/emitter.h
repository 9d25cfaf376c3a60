// An emit strategy pushes nghttp2's outbound frames through the TLS connection, one pass at a
// time. Every pass fills its PassRecord; the connection decides when passes run.
#pragma once

#include <cstdint>
#include <memory>

#include "core/allocator.h"
#include "core/h2_session.h"
#include "core/pass_record.h"
#include "core/strategy.h"
#include "core/tls_connection.h"

namespace emitlab {

struct EmitContext {
  TlsConnection& tls;
  H2ServerSession& session;
  EmitterHeap& heap;
  PassRecord& record;
};

class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void run_pass(EmitContext& ctx) = 0;
  // Inside send/mem_send, right after a stream's END_STREAM or reset.
  virtual void on_stream_close(ServerStream& /*stream*/, PassRecord* /*record*/) {}
  // True while the strategy holds frame bytes nghttp2 already counts as sent (drain's slice).
  virtual bool holds_unsent_bytes() const { return false; }
  // The connection is going away: return retained scratch to the allocator.
  virtual void release_scratch() {}
};

std::unique_ptr<Emitter> make_emitter(const StrategySpec& spec, EmitterHeap& heap);

}  // namespace emitlab
