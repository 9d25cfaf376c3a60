// DRAIN (upstream 5b91e82): mem_send into a 16649-byte buffer, BIO_write into the plaintext
// ring while its write guarantee holds a whole buffer, then the TLS drain. A frame slice that
// does not fit stays parked in a cursor and is copied first on the next fill.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/emitter.h"
#include "core/wire_limits.h"

namespace emitlab {

class DrainEmitter final : public Emitter {
 public:
  static constexpr std::size_t kBufferSize = kDrainBuffer;

  void run_pass(EmitContext& ctx) override;
  bool holds_unsent_bytes() const override { return parked_.offset < parked_.length; }
  std::string validate() const override;

 private:
  // Upstream http2_session_drain: parked remainder first, then mem_send slices. <0 on error.
  long fill(EmitContext& ctx);

  struct ParkedSlice {
    const std::uint8_t* data = nullptr;  // nghttp2's buffer: valid until the next mem_send
    std::size_t offset = 0;
    std::size_t length = 0;
  };
  ParkedSlice parked_;
  std::array<std::uint8_t, kBufferSize> buffer_{};
};

}  // namespace emitlab
