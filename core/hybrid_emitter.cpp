#include "core/hybrid_emitter.h"

namespace emitlab {

void HybridEmitter::run_pass(EmitContext& ctx) {
  if (drain_.holds_unsent_bytes() && gather_.holds_deferred_frame()) {
    ctx.tls.violation(Rule::HybridPin, "drain's parked slice and gather's deferred frame at once");
    return;
  }
  // The two pins; the bug zoo's hybrid-no-drain-pin and hybrid-gather-to-drain pull one each.
  const bool drain_pinned = drain_.holds_unsent_bytes() && mutant_ != Mutant::HybridNoDrainPin;
  const bool gather_pinned =
      gather_.holds_deferred_frame() && mutant_ != Mutant::HybridGatherToDrain;
  const bool use_drain = drain_pinned || (ctx.large_streams_pending == 0 && !gather_pinned);
  if (use_drain) {
    drain_.run_pass(ctx);
  } else {
    in_gather_pass_ = true;
    gather_.run_pass(ctx);
    in_gather_pass_ = false;
  }
}

std::string HybridEmitter::validate() const {
  if (in_gather_pass_) return "hybrid is still inside a gather pass between passes";
  if (drain_.holds_unsent_bytes() && gather_.holds_deferred_frame()) {
    return "hybrid holds drain's parked slice and gather's deferred frame at once";
  }
  std::string why = drain_.validate();
  return why.empty() ? gather_.validate() : why;
}

}  // namespace emitlab
