// An emit strategy pushes nghttp2's outbound frames through the TLS connection, one pass at a
// time. Every pass fills its PassRecord; the connection decides when passes run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/allocator.h"
#include "core/h2_session.h"
#include "core/mutant.h"
#include "core/pass_record.h"
#include "core/strategy.h"
#include "core/tls_connection.h"

namespace emitlab {

struct EmitContext {
  TlsConnection& tls;
  H2ServerSession& session;
  EmitterHeap& heap;
  PassRecord& record;
  std::uint32_t large_streams_pending = 0;  // hybrid's counter of latched open streams
};

class Emitter {
 public:
  virtual ~Emitter() = default;
  virtual void run_pass(EmitContext& ctx) = 0;
  // A stream closed: inside a pass (send/mem_send, before the flush) or outside one (a reset
  // read from the peer, the connection going away). Counts go to `record`.
  virtual void on_stream_close(ServerStream& /*stream*/, bool /*in_pass*/, PassRecord* /*record*/) {
  }
  // True while the strategy holds frame bytes nghttp2 already counts as sent (drain's slice).
  virtual bool holds_unsent_bytes() const { return false; }
  // True while nghttp2 holds a NO_COPY DATA frame this strategy refused at its cap.
  virtual bool holds_deferred_frame() const { return false; }
  // The connection is going away: return retained scratch to the allocator.
  virtual void release_scratch() {}
  // The first broken invariant of the emitter between passes, or empty (cheap: per step).
  virtual std::string validate() const { return {}; }
};

// `mutant`: the bug zoo's emitter fault points (core/mutant.h), None in production.
std::unique_ptr<Emitter> make_emitter(const StrategySpec& spec, EmitterHeap& heap,
                                      Mutant mutant = Mutant::None);

// Builds the emitter of a connection; tests and properties inject deliberately broken ones.
using EmitterFactory =
    std::function<std::unique_ptr<Emitter>(const StrategySpec& spec, EmitterHeap& heap)>;

}  // namespace emitlab
