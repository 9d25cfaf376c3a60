// Which TLS 1.3 handshake a simulated connection makes (a scenario's `tls.handshake`).
//   certificate: ECDHE (X25519) with the server's embedded Ed25519 certificate, as a real server
//     does; every `run`, `compare` and property test makes this one.
//   psk: an external pre-shared key derived from the seed, in psk_ke mode (no ECDHE on the
//     server, no certificate, no signature); the explorer's scopes make this one because a
//     schedule's cost is mostly its handshake. The application stream after it is the same.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

namespace emitlab::sim {

enum class TlsHandshake : std::uint8_t { Certificate, Psk };

inline constexpr std::pair<std::string_view, TlsHandshake> kTlsHandshakes[] = {
    {"certificate", TlsHandshake::Certificate}, {"psk", TlsHandshake::Psk}};

constexpr std::string_view to_string(TlsHandshake h) {
  return h == TlsHandshake::Psk ? "psk" : "certificate";
}

}  // namespace emitlab::sim
