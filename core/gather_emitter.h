// GATHER as first shipped (upstream 597a474, plus #29's park on WANT_WRITE): one
// nghttp2_session_send per pass with this object as the sink. Control frames and DATA headers
// are copied into an emit buffer; NO_COPY DATA bodies become gather entries pointing at the
// body, each holding one reference on its response until the end of the pass. A byte cap is
// checked before each append, so the first frame of a pass and the one that crosses the cap
// always go through. The flush copies every entry into a 16 KiB stage (or a heap stage for a
// larger pass) and hands it to one SSL_write_ex loop.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/emitter.h"
#include "core/scratch_vector.h"

namespace emitlab {

class GatherEmitter final : public Emitter, private EmitSink {
 public:
  static constexpr std::size_t kEmitBufferInline = 32768;
  static constexpr std::size_t kStageSize = 16384;
  static constexpr std::size_t kGatherListInitial = 64;
  static constexpr std::size_t kRefListInitial = 32;

  GatherEmitter(const StrategySpec& spec, EmitterHeap& heap);
  ~GatherEmitter() override;
  void run_pass(EmitContext& ctx) override;
  void release_scratch() override;

 private:
  struct GatherEntry {
    const std::uint8_t* body;  // nullptr: the bytes are in the emit buffer at `offset`
    std::size_t offset;
    std::size_t length;
  };

  ssize_t on_send(std::span<const std::uint8_t> bytes) override;
  int on_send_data(const std::uint8_t* framehd, std::size_t length, ServerStream& stream) override;
  bool over_cap() const { return spec_.cap > 0 && appended_ >= spec_.cap; }
  void append_bytes(std::span<const std::uint8_t> bytes);
  void grow_emit_buffer(std::size_t needed);
  void flush(EmitContext& ctx);
  void release_refs();
  void end_pass();

  StrategySpec spec_;
  EmitterHeap* heap_;
  ScratchVector<GatherEntry> entries_;
  ScratchVector<ResponseObject*> refs_;
  std::array<std::uint8_t, kEmitBufferInline> emit_inline_{};
  std::uint8_t* emit_ = emit_inline_.data();
  std::size_t emit_capacity_ = kEmitBufferInline;
  std::size_t emit_length_ = 0;
  std::array<std::uint8_t, kStageSize> stage_{};
  std::size_t appended_ = 0;
  PassRecord* record_ = nullptr;
};

}  // namespace emitlab
