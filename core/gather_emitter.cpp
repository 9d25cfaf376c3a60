#include "core/gather_emitter.h"

#include <cstring>
#include <new>
#include <string>

namespace emitlab {
namespace {

constexpr std::size_t kFrameHeader = 9;

void count_copy(PassRecord* rec, CopySite site, std::size_t bytes) {
  rec->copied[static_cast<std::size_t>(site)] += bytes;
}

}  // namespace

GatherEmitter::GatherEmitter(const StrategySpec& spec, EmitterHeap& heap)
    : spec_(spec),
      heap_(&heap),
      entries_(heap, AllocSite::GatherList, kGatherListInitial),
      refs_(heap, AllocSite::RefList, kRefListInitial) {}

GatherEmitter::~GatherEmitter() { release_scratch(); }

void GatherEmitter::release_scratch() {
  release_refs();
  entries_.release();
  refs_.release();
  if (emit_ != emit_inline_.data()) heap_->deallocate(emit_, AllocSite::EmitBuffer);
  emit_ = emit_inline_.data();
  emit_capacity_ = kEmitBufferInline;
  emit_length_ = 0;
}

void GatherEmitter::run_pass(EmitContext& ctx) {
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
    ctx.tls.fail("nghttp2_session_send failed: " + std::string(nghttp2_strerror(rv)));
  } else {
    try {
      flush(ctx);
    } catch (const std::bad_alloc&) {
      ctx.tls.fail("allocation of the heap stage failed in pass " +
                   std::to_string(ctx.record.index));
    }
  }
  end_pass();  // references and scratch are returned whatever happened above
  record_ = nullptr;
  ctx.tls.drain();
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
  if (over_cap()) return NGHTTP2_ERR_WOULDBLOCK;
  try {
    append_bytes({framehd, kFrameHeader});
    if (length > 0) {
      entries_.push_back({stream.response->body().data() + stream.body_offset, 0, length});
      // The entry points into the body: hold a reference until the flush is done, because
      // on_stream_close may drop the stream's own reference before this pass flushes.
      refs_.push_back(stream.response.get());
      if (stream.response->retain()) {
        ++record_->ref_retains;
      } else {
        refs_.items().back() = nullptr;  // immutable body: nothing to release
      }
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
  if (emit_length_ + bytes.size() > emit_capacity_) grow_emit_buffer(emit_length_ + bytes.size());
  std::memcpy(emit_ + emit_length_, bytes.data(), bytes.size());
  count_copy(record_, CopySite::EmitBuffer, bytes.size());
  if (!entries_.empty() && entries_.back().body == nullptr &&
      entries_.back().offset + entries_.back().length == emit_length_) {
    entries_.back().length += bytes.size();  // adjacent buffer entries merge
  } else {
    entries_.push_back({nullptr, emit_length_, bytes.size()});
  }
  emit_length_ += bytes.size();
}

void GatherEmitter::grow_emit_buffer(std::size_t needed) {
  std::size_t next = emit_capacity_ * 2;
  while (next < needed) next *= 2;
  auto* bigger = static_cast<std::uint8_t*>(heap_->allocate(next, AllocSite::EmitBuffer));
  std::memcpy(bigger, emit_, emit_length_);
  count_copy(record_, CopySite::EmitBuffer, emit_length_);
  if (emit_ != emit_inline_.data()) heap_->deallocate(emit_, AllocSite::EmitBuffer);
  emit_ = bigger;
  emit_capacity_ = next;
}

void GatherEmitter::flush(EmitContext& ctx) {
  if (entries_.empty()) return;
  ctx.record.gather_entries = static_cast<std::uint32_t>(entries_.size());
  std::size_t total = 0;
  for (const auto& e : entries_.items()) total += e.length;
  const bool on_heap = total > kStageSize;
  auto* out = on_heap ? static_cast<std::uint8_t*>(heap_->allocate(total, AllocSite::HeapStage))
                      : stage_.data();
  std::size_t at = 0;
  for (const auto& e : entries_.items()) {
    std::memcpy(out + at, e.body != nullptr ? e.body : emit_ + e.offset, e.length);
    at += e.length;
  }
  count_copy(&ctx.record, on_heap ? CopySite::HeapStage : CopySite::Stage, total);
  ctx.tls.write_direct({out, total});
  if (on_heap) heap_->deallocate(out, AllocSite::HeapStage);
}

void GatherEmitter::release_refs() {
  for (ResponseObject* obj : refs_.items()) {
    bool destroyed = false;
    if (!ResponseObject::release(obj, &destroyed)) continue;
    if (record_ != nullptr) {
      ++record_->ref_releases;
      if (destroyed) ++record_->objects_destroyed;
    }
  }
  refs_.clear();
}

void GatherEmitter::end_pass() {
  // As shipped, the lists and a heap emit buffer live for one pass.
  release_scratch();
}

}  // namespace emitlab
