#include "core/gather_emitter.h"

#include "core/assert.h"

#include <cstring>
#include <new>
#include <string>

namespace emitlab {
namespace {

void count_copy(PassRecord* rec, CopySite site, std::size_t bytes) {
  rec->copied[static_cast<std::size_t>(site)] += bytes;
}

}  // namespace

GatherEmitter::GatherEmitter(const StrategySpec& spec, EmitterHeap& heap,
                             std::unique_ptr<ReleasePolicy> release, Mutant mutant)
    : spec_(spec),
      lifetime_(spec.reuse_scratch),
      release_(release ? std::move(release)
                       : make_release_policy(spec.release_at_close, heap, mutant)),
      entries_(heap, AllocSite::GatherList, kGatherListInitial),
      emit_heap_(heap, AllocSite::EmitBuffer),
      heap_stage_(heap, AllocSite::HeapStage) {}

GatherEmitter::~GatherEmitter() {
  release_scratch();
}

void GatherEmitter::release_scratch() {
  release_->release_all();
  entries_.release();
  emit_heap_.release();
  heap_stage_.release();
  emit_length_ = 0;
}

void GatherEmitter::run_pass(EmitContext& ctx) {
  EMITLAB_ASSERT(record_ == nullptr && entries_.empty() && emit_length_ == 0);
  ctx.record.kind = PassKind::Gather;
  // Entry gate: earlier plaintext goes first, and a write in flight means the completion
  // will run the next pass.
  ctx.tls.drain();
  if (ctx.tls.write_in_flight() || ctx.tls.failed()) {
    ctx.record.skipped = true;
    return;
  }
  record_ = &ctx.record;
  appended_ = 0;
  ctx.session.attach_sink(this);
  const int rv = nghttp2_session_send(ctx.session.raw());
  ctx.session.attach_sink(nullptr);
  if (rv != 0) {
    ctx.tls.fail(FailureKind::Nghttp2,
                 "nghttp2_session_send failed: " + std::string(nghttp2_strerror(rv)));
  } else {
    try {
      flush(ctx);
    } catch (const std::bad_alloc&) {
      ctx.tls.fail(FailureKind::Allocation, "allocation of the heap stage failed in pass " +
                                                std::to_string(ctx.record.index));
    }
  }
  end_pass();  // references and scratch are returned whatever happened above
  record_ = nullptr;
  ctx.tls.drain();
}

void GatherEmitter::on_stream_close(ServerStream& stream, bool in_pass, PassRecord* record) {
  if (stream.id == deferred_stream_) deferred_stream_ = 0;  // nghttp2 drops that frame
  if (record != nullptr && in_pass) ++record->streams_closed;
  release_->on_stream_close(stream, in_pass, record);
}

ssize_t GatherEmitter::on_send(std::span<const std::uint8_t> bytes) {
  if (over_cap()) return NGHTTP2_ERR_WOULDBLOCK;
  try {
    append_bytes(bytes);
  } catch (const std::bad_alloc&) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  appended_ += bytes.size();
  record_->bytes += bytes.size();
  return static_cast<ssize_t>(bytes.size());
}

int GatherEmitter::on_send_data(const std::uint8_t* framehd, std::size_t length,
                                ServerStream& stream) {
  if (over_cap()) {
    deferred_stream_ = stream.id;
    return NGHTTP2_ERR_WOULDBLOCK;
  }
  if (stream.id == deferred_stream_) deferred_stream_ = 0;
  try {
    append_bytes({framehd, kFrameHeader});
    if (length > 0) {
      // The entry points into the body: the release policy keeps it alive past the flush,
      // because on_stream_close may drop the stream's own reference before this pass flushes.
      release_->on_slice(stream, *record_);
      entries_.push_back({stream.response->body().data() + stream.body_offset, 0, length});
    }
  } catch (const std::bad_alloc&) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  stream.body_offset += length;
  appended_ += kFrameHeader + length;
  record_->bytes += kFrameHeader + length;
  return 0;
}

void GatherEmitter::append_bytes(std::span<const std::uint8_t> bytes) {
  const std::size_t needed = emit_length_ + bytes.size();
  if (emit_heap_.capacity() == 0 && needed > kEmitBufferInline) {
    // Heap promotion: the inline buffer's bytes move over once.
    emit_heap_.reserve(needed, 0, lifetime_.reuse() ? worst_pass() : kEmitBufferInline * 2);
    std::memcpy(emit_heap_.data(), emit_inline_.data(), emit_length_);
    count_copy(record_, CopySite::EmitBuffer, emit_length_);
  } else if (emit_heap_.capacity() > 0) {
    count_copy(record_, CopySite::EmitBuffer,
               emit_heap_.reserve(needed, emit_length_, kEmitBufferInline * 2));
  }
  EMITLAB_ASSERT(emit_length_ + bytes.size() <=
                 (emit_heap_.capacity() > 0 ? emit_heap_.capacity() : kEmitBufferInline));
  std::memcpy(emit_buffer() + emit_length_, bytes.data(), bytes.size());
  count_copy(record_, CopySite::EmitBuffer, bytes.size());
  if (!entries_.empty() && entries_.back().body == nullptr &&
      entries_.back().offset + entries_.back().length == emit_length_) {
    entries_.back().length += bytes.size();  // adjacent buffer entries merge
  } else {
    entries_.push_back({nullptr, emit_length_, bytes.size()});
  }
  emit_length_ += bytes.size();
}

void GatherEmitter::flush(EmitContext& ctx) {
  if (entries_.empty()) return;
  ctx.record.gather_entries = static_cast<std::uint32_t>(entries_.size());
  auto source = [this](const GatherEntry& e) {
    return e.body != nullptr ? e.body : emit_buffer() + e.offset;
  };
  if (spec_.fast_path && entries_.size() == 1) {
    // A2: one contiguous piece needs no stage; the SSL_write calls are the same.
    ctx.record.fast_path = true;
    ctx.tls.write_direct({source(entries_.items()[0]), entries_.items()[0].length});
    return;
  }
  std::size_t total = 0;
  for (const auto& e : entries_.items()) total += e.length;
  // Every byte counted against the cap is in the list (a refused append added nothing).
  EMITLAB_ASSERT(total == appended_);
  const bool on_heap = total > kStageSize;
  // Per pass the heap stage is exactly the pass; reused, it is sized once for the worst pass.
  if (on_heap) heap_stage_.reserve(total, 0, lifetime_.reuse() ? worst_pass() : total);
  std::uint8_t* out = on_heap ? heap_stage_.data() : stage_.data();
  std::size_t at = 0;
  for (const auto& e : entries_.items()) {
    std::memcpy(out + at, source(e), e.length);
    at += e.length;
  }
  EMITLAB_ASSERT(at == total && (on_heap ? heap_stage_.capacity() : kStageSize) >= total);
  count_copy(&ctx.record, on_heap ? CopySite::HeapStage : CopySite::Stage, total);
  ctx.tls.write_direct({out, total});
}

std::size_t GatherEmitter::worst_pass() const {
  return gather_worst_pass(spec_.cap);
}

void GatherEmitter::end_pass() {
  release_->after_flush(record_);
  lifetime_.end_pass(entries_, ScratchLifetime::kRetainEntries);
  release_->end_pass(lifetime_);
  emit_heap_.end_pass(lifetime_);
  heap_stage_.end_pass(lifetime_);
  emit_length_ = 0;
}

std::string GatherEmitter::validate() const {
  if (record_ != nullptr) return "gather's pass record is still attached between passes";
  if (!entries_.empty() || emit_length_ != 0) return "gather's list is not empty between passes";
  if (deferred_stream_ < 0) return "gather deferred a negative stream id";
  if (!lifetime_.reuse() &&
      (entries_.capacity() != 0 || emit_heap_.capacity() != 0 || heap_stage_.capacity() != 0)) {
    return "gather without A1 kept scratch past its pass";
  }
  if (entries_.capacity() > ScratchLifetime::kRetainEntries ||
      emit_heap_.capacity() > ScratchLifetime::kRetainBytes ||
      heap_stage_.capacity() > ScratchLifetime::kRetainBytes) {
    return "gather kept scratch above A1's bounds";
  }
  return release_->validate();
}

}  // namespace emitlab
