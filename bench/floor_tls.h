// The floor's TLS connection: the deterministic server and client contexts, handshaken over one
// in-memory BIO pair. Ciphertext written by the server is discarded unread from the client's end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/ossl_handles.h"

namespace emitlab::bench {

class FloorTls {
 public:
  static constexpr std::size_t kRecordPayload = 16384;

  FloorTls(SSL_CTX* server_ctx, SSL_CTX* client_ctx);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Encrypts `bytes` of application data in full records (one SSL_write_ex per 16384 bytes, the
  // last one shorter) and drops the ciphertext. Returns the SSL_write_ex calls made (0: error).
  std::uint64_t encrypt(std::uint64_t bytes);

 private:
  bool handshake();
  void discard();

  SslPtr server_;
  SslPtr client_;
  BIO* client_end_ = nullptr;  // owned by client_
  std::vector<std::uint8_t> plaintext_;
  std::string error_;
};

// A full deterministic handshake between a fresh client and server SSL (self/handshake).
bool handshake_pair(SSL* server, SSL* client);

}  // namespace emitlab::bench
