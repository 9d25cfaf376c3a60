#include "core/hybrid_emitter.h"

namespace emitlab {

void HybridEmitter::run_pass(EmitContext& ctx) {
  if (drain_.holds_unsent_bytes() && gather_.holds_deferred_frame()) {
    ctx.tls.violation(Rule::HybridPin, "drain's parked slice and gather's deferred frame at once");
    return;
  }
  const bool use_drain = drain_.holds_unsent_bytes() ||
                         (ctx.large_streams_pending == 0 && !gather_.holds_deferred_frame());
  if (use_drain) {
    drain_.run_pass(ctx);
  } else {
    in_gather_pass_ = true;
    gather_.run_pass(ctx);
    in_gather_pass_ = false;
  }
}

}  // namespace emitlab
