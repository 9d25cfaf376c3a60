// HYBRID (upstream 76e2c7c + 18f51b2): drain while no large stream is pending, gather
// otherwise. Streams with a body above the threshold, and every streaming response, are
// latched into a per-connection counter at submit and unlatched at stream close. Two pins keep
// a pass from switching under a half-sent frame: drain stays while its parked slice holds bytes
// (#224), and gather stays while nghttp2 holds a NO_COPY DATA frame gather deferred at the cap
// (the direction upstream leaves unpinned). A1..A4 apply to the gather passes.
#pragma once

#include "core/drain_emitter.h"
#include "core/gather_emitter.h"

namespace emitlab {

class HybridEmitter final : public Emitter {
 public:
  // `mutant` arms the selector's and the release policy's fault points (core/mutant.h).
  HybridEmitter(const StrategySpec& spec, EmitterHeap& heap,
                std::unique_ptr<ReleasePolicy> release = nullptr, Mutant mutant = Mutant::None)
      : gather_(spec, heap, std::move(release), mutant), mutant_(mutant) {}

  void run_pass(EmitContext& ctx) override;
  // Only a gather pass has entries pointing into bodies: a stream closing in a drain pass
  // releases at once, as outside a pass.
  void on_stream_close(ServerStream& stream, bool in_pass, PassRecord* record) override {
    if (in_pass && !in_gather_pass_ && record != nullptr) ++record->streams_closed;
    gather_.on_stream_close(stream, in_pass && in_gather_pass_, record);
  }
  bool holds_unsent_bytes() const override { return drain_.holds_unsent_bytes(); }
  bool holds_deferred_frame() const override { return gather_.holds_deferred_frame(); }
  void release_scratch() override { gather_.release_scratch(); }
  std::string validate() const override;

 private:
  DrainEmitter drain_;
  GatherEmitter gather_;
  Mutant mutant_;
  bool in_gather_pass_ = false;
};

}  // namespace emitlab
