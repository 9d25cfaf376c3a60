// libFuzzer harness (b): the client's TLS records after a deterministic handshake, straight
// into a live ServerConnection (fuzz/live_server.h). Seeds recorded from a real client carry
// records the server can decrypt (the handshake's keys are the same for every input).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/live_server.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> input(data, size);
  const auto params = emitlab::fuzz::LiveParams::draw(input);
  emitlab::fuzz::LiveServer server(params);
  if (!server.handshake()) __builtin_trap();
  server.send_records(input);
  server.check();
  return 0;
}
