// The SSL_CTX settings every emitlab server context shares, whoever builds it: the simulator's
// deterministic context (sim/deterministic_tls) and the real-socket server's (net/).
#pragma once

#include <openssl/ssl.h>

#include <cstdint>

namespace emitlab {

// Options both contexts set (upstream's tls_apply_security_defaults sets these too).
inline constexpr std::uint64_t kServerContextOptions =
    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;

// Server-side ALPN: selects "h2" from the client's list and refuses the handshake (fatal
// no_application_protocol alert) when the client does not offer it: emitlab speaks HTTP/2 only.
void select_h2_alpn(SSL_CTX* ctx);

// Applies kServerContextOptions and select_h2_alpn.
void apply_shared_server_settings(SSL_CTX* ctx);

}  // namespace emitlab
