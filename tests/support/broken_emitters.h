// The two traps of Track A and hybrid, built on purpose so that tests can show they are real
// (tests/test_release_deferral.cpp) and that the property suite catches them
// (props/prop_replay_e2e.cpp). Never linked into core or the CLI.
#pragma once

#include <utility>

#include "core/drain_emitter.h"
#include "core/gather_emitter.h"

namespace emitlab::testing {

// A3 done wrong: the stream's reference is dropped the moment the stream closes, even inside
// session_send, before the pass has flushed, although a gather entry may still point into the
// body.
class ReleaseAtCloseWithoutDeferral final : public ReleasePolicy {
 public:
  void on_slice(ServerStream& stream, PassRecord& record) override {
    if (stream.emitter_ref_taken) return;
    stream.emitter_ref_taken = true;
    ++record.streams_started;
    if (stream.response->retain()) {
      stream.emitter_ref = stream.response.get();
      ++record.ref_retains;
    }
  }
  void on_stream_close(ServerStream& stream, bool, PassRecord* record) override {
    release_counted(std::exchange(stream.emitter_ref, nullptr), record);
  }
  void after_flush(PassRecord*) override {}
  void end_pass(const ScratchLifetime&) override {}
  void release_all() override {}
};

// Upstream's selector: pins drain while its slice is parked, but not gather while nghttp2 holds
// gather's deferred NO_COPY frame.
class UnpinnedHybrid final : public Emitter {
 public:
  UnpinnedHybrid(const StrategySpec& spec, EmitterHeap& heap) : gather_(spec, heap) {}
  void run_pass(EmitContext& ctx) override {
    if (drain_.holds_unsent_bytes() || ctx.large_streams_pending == 0) {
      drain_.run_pass(ctx);
    } else {
      gather_.run_pass(ctx);
    }
  }
  void on_stream_close(ServerStream& s, bool in_pass, PassRecord* r) override {
    gather_.on_stream_close(s, in_pass, r);
  }
  bool holds_unsent_bytes() const override { return drain_.holds_unsent_bytes(); }
  bool holds_deferred_frame() const override { return gather_.holds_deferred_frame(); }
  void release_scratch() override { gather_.release_scratch(); }

 private:
  DrainEmitter drain_;
  GatherEmitter gather_;
};

}  // namespace emitlab::testing
