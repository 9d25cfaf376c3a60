// Why a connection failed, as a value: callers branch on the kind, never on the message's words
// (the message is for people and may change).
#pragma once

#include <cstdint>
#include <string_view>

namespace emitlab {

enum class FailureKind : std::uint8_t {
  None,               // healthy (or closed cleanly)
  Tls,                // OpenSSL refused: handshake, read, write or shutdown
  CipherInFull,       // the peer's ciphertext overran the cipher-in ring mid-record
  PlaintextRingFull,  // a producer wrote more than the plaintext ring's free space
  SessionRejected,    // nghttp2 refused the peer's input (a protocol error)
  Session,            // the HTTP/2 session cannot go on (setup, GOAWAY with an error, a flood)
  Nghttp2,            // nghttp2_session_send or mem_send failed inside a pass
  Invariant,          // a safety rule broke (core/invariants.h)
  Allocation,         // an allocation a pass needed failed
  Transport,          // the transport died under the connection
  Other,              // a reason given through fail(std::string) by code outside core
};

inline std::string_view to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::None:
      return "none";
    case FailureKind::Tls:
      return "tls";
    case FailureKind::CipherInFull:
      return "cipher_in_full";
    case FailureKind::PlaintextRingFull:
      return "plaintext_ring_full";
    case FailureKind::SessionRejected:
      return "session_rejected";
    case FailureKind::Session:
      return "session";
    case FailureKind::Nghttp2:
      return "nghttp2";
    case FailureKind::Invariant:
      return "invariant";
    case FailureKind::Allocation:
      return "allocation";
    case FailureKind::Transport:
      return "transport";
    case FailureKind::Other:
      return "other";
  }
  return "?";
}

}  // namespace emitlab
