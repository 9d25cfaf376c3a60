// GATHER (upstream 597a474, plus #29's park on WANT_WRITE), with the Track A options as parts:
// one nghttp2_session_send per pass with this object as the sink. Control frames and DATA
// headers are copied into an emit buffer; NO_COPY DATA bodies become gather entries pointing
// at the body, kept alive by the release policy until the flush is done. A byte cap is checked
// before each append, so the first frame of a pass and the one that crosses the cap always go
// through. The flush copies every entry into a 16 KiB stage (or a heap stage for a larger pass)
// and hands it to one SSL_write_ex loop.
//   A1 (reuse_scratch): the lists, heap emit buffer and heap stage keep their capacity.
//   A2 (fast_path):     a pass that is one entry is written from that entry's memory.
//   A3 (release_at_close): AtCloseRelease instead of PerSliceRelease.
//   A4 (cap):           the byte cap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/emitter.h"
#include "core/release_policy.h"
#include "core/scratch_lifetime.h"
#include "core/scratch_vector.h"
#include "core/wire_limits.h"

namespace emitlab {

class GatherEmitter final : public Emitter, private EmitSink {
 public:
  static constexpr std::size_t kEmitBufferInline = 32768;
  static constexpr std::size_t kStageSize = kGatherStage;
  static constexpr std::size_t kGatherListInitial = 64;

  // `release` overrides the policy the spec implies (tests inject broken ones); `mutant` arms
  // the release policy's fault points (core/mutant.h).
  GatherEmitter(const StrategySpec& spec, EmitterHeap& heap,
                std::unique_ptr<ReleasePolicy> release = nullptr, Mutant mutant = Mutant::None);
  ~GatherEmitter() override;
  void run_pass(EmitContext& ctx) override;
  void on_stream_close(ServerStream& stream, bool in_pass, PassRecord* record) override;
  void release_scratch() override;
  // nghttp2 holds a NO_COPY DATA frame this emitter refused at the cap: only a gather pass
  // may continue it (a drain pass would meet it with no sink and fail the session).
  bool holds_deferred_frame() const override { return deferred_stream_ != 0; }
  std::string validate() const override;

 private:
  struct GatherEntry {
    const std::uint8_t* body;  // nullptr: the bytes are in the emit buffer at `offset`
    std::size_t offset;
    std::size_t length;
  };

  ssize_t on_send(std::span<const std::uint8_t> bytes) override;
  int on_send_data(const std::uint8_t* framehd, std::size_t length, ServerStream& stream) override;
  bool over_cap() const { return spec_.cap > 0 && appended_ >= spec_.cap; }
  std::uint8_t* emit_buffer() {
    return emit_heap_.capacity() > 0 ? emit_heap_.data() : emit_inline_.data();
  }
  void append_bytes(std::span<const std::uint8_t> bytes);
  void flush(EmitContext& ctx);
  void end_pass();
  std::size_t worst_pass() const;

  StrategySpec spec_;
  ScratchLifetime lifetime_;
  std::unique_ptr<ReleasePolicy> release_;
  ScratchVector<GatherEntry> entries_;
  std::array<std::uint8_t, kEmitBufferInline> emit_inline_{};
  ScratchBytes emit_heap_;
  std::size_t emit_length_ = 0;
  std::array<std::uint8_t, kStageSize> stage_{};
  ScratchBytes heap_stage_;
  std::size_t appended_ = 0;
  std::int32_t deferred_stream_ = 0;
  PassRecord* record_ = nullptr;
};

}  // namespace emitlab
