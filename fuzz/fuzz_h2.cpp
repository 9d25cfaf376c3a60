// libFuzzer harness (a): the client's decrypted HTTP/2 bytes, encrypted by a real client after
// a deterministic handshake, into a live ServerConnection whose strategy, completions and ring
// sizes come from the input's first bytes (fuzz/live_server.h).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/live_server.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> input(data, size);
  const auto params = emitlab::fuzz::LiveParams::draw(input);
  emitlab::fuzz::LiveServer server(params);
  if (!server.handshake()) __builtin_trap();  // deterministic: never expected
  server.send_plaintext(input);
  server.check();
  return 0;
}
