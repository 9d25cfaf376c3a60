#include "core/drain_emitter.h"

#include "core/assert.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace emitlab {

void DrainEmitter::run_pass(EmitContext& ctx) {
  ctx.record.kind = PassKind::Drain;
  while (!ctx.tls.failed() && (holds_unsent_bytes() || ctx.session.want_write())) {
    if (ctx.tls.plaintext_write_guarantee() < kBufferSize) break;
    const long n = fill(ctx);
    if (n < 0) {
      ctx.tls.fail(FailureKind::Nghttp2, "nghttp2_session_mem_send failed: " +
                                             std::string(nghttp2_strerror(static_cast<int>(n))));
      break;
    }
    if (n == 0) break;
    EMITLAB_ASSERT(static_cast<std::size_t>(n) <= kBufferSize);
    ctx.record.bytes += static_cast<std::uint64_t>(n);
    const std::span<const std::uint8_t> out(buffer_.data(), static_cast<std::size_t>(n));
    if (!ctx.tls.write_plaintext(out, CopySite::PlaintextRing)) break;
  }
  ctx.tls.drain();
}

long DrainEmitter::fill(EmitContext& ctx) {
  std::size_t n = 0;
  auto copy = [&](const std::uint8_t* src, std::size_t len) {
    EMITLAB_ASSERT(n + len <= kBufferSize);
    std::memcpy(buffer_.data() + n, src, len);
    n += len;
    ctx.record.copied[static_cast<std::size_t>(CopySite::DrainBuffer)] += len;
  };
  if (holds_unsent_bytes()) {
    const std::size_t take = std::min(parked_.length - parked_.offset, kBufferSize);
    copy(parked_.data + parked_.offset, take);
    parked_.offset += take;
    if (holds_unsent_bytes()) return static_cast<long>(n);
    parked_ = {};
  }
  while (n < kBufferSize) {
    const std::uint8_t* data = nullptr;
    const ssize_t len = nghttp2_session_mem_send(ctx.session.raw(), &data);
    if (len < 0) return len;
    if (len == 0) break;
    const auto slice = static_cast<std::size_t>(len);
    const std::size_t take = std::min(slice, kBufferSize - n);
    copy(data, take);
    if (take < slice) {
      parked_ = {data, take, slice};
      break;
    }
  }
  return static_cast<long>(n);
}

std::string DrainEmitter::validate() const {
  if (parked_.offset > parked_.length) return "drain's parked cursor is past its slice";
  if ((parked_.data == nullptr) != (parked_.length == 0)) {
    return "drain's parked slice has a length without data or data without a length";
  }
  if (parked_.length != 0 && parked_.offset == 0) return "drain parked a slice it never copied";
  return {};
}

}  // namespace emitlab
