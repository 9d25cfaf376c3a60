// The real server's SSL_CTX, after upstream's tls_apply_security_defaults: TLS 1.2-1.3, its
// cipher suites in its order, server preference, security level 2, ALPN h2, plus the settings
// every emitlab server context shares (core/tls_context.h).
#pragma once

#include <stdexcept>
#include <string>

#include "core/ossl_handles.h"

namespace emitlab::net {

// A one-line message naming the bad value and what is allowed (the CLI exits 2 with it).
class NetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kUpstreamTls13Suites =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
inline constexpr const char* kUpstreamTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct TlsServerConfig {
  std::string cert_file;  // PEM chain; empty together with key_file: a self-signed P-256 pair
  std::string key_file;   // PEM private key
  std::string tls13_suites = kUpstreamTls13Suites;
};

// Throws NetError for an unreadable or mismatched certificate or key, or a bad suite list.
SslCtxPtr make_server_context(const TlsServerConfig& config);

}  // namespace emitlab::net
