#include "bench/floor_tls.h"

#include <algorithm>

namespace emitlab::bench {
namespace {
constexpr std::size_t kPairBuffer = 4 * 17408;  // room for a handshake flight or a few records
}  // namespace

bool handshake_pair(SSL* server, SSL* client) {
  for (int round = 0; round < 16; ++round) {
    const int c = SSL_do_handshake(client);
    const int s = SSL_do_handshake(server);
    if (c == 1 && s == 1) return true;
    const int ce = SSL_get_error(client, c);
    const int se = SSL_get_error(server, s);
    const bool waiting = (c == 1 || ce == SSL_ERROR_WANT_READ || ce == SSL_ERROR_WANT_WRITE) &&
                         (s == 1 || se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE);
    if (!waiting) return false;
  }
  return false;
}

FloorTls::FloorTls(SSL_CTX* server_ctx, SSL_CTX* client_ctx)
    : server_(SSL_new(server_ctx)), client_(SSL_new(client_ctx)), plaintext_(kRecordPayload, 0x5a) {
  BIO* server_end = nullptr;
  if (!server_ || !client_ ||
      BIO_new_bio_pair(&server_end, kPairBuffer, &client_end_, kPairBuffer) != 1) {
    error_ = "floor: cannot create the SSL pair";
    return;
  }
  SSL_set_bio(server_.get(), server_end, server_end);
  SSL_set_bio(client_.get(), client_end_, client_end_);
  SSL_set_accept_state(server_.get());
  SSL_set_connect_state(client_.get());
  if (!handshake()) error_ = "floor: handshake failed";
}

bool FloorTls::handshake() {
  if (!handshake_pair(server_.get(), client_.get())) return false;
  discard();
  return true;
}

void FloorTls::discard() {
  char* p = nullptr;
  for (int n = BIO_nread0(client_end_, &p); n > 0; n = BIO_nread0(client_end_, &p)) {
    BIO_nread(client_end_, &p, n);
  }
}

std::uint64_t FloorTls::encrypt(std::uint64_t bytes) {
  std::uint64_t calls = 0;
  while (bytes > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes, kRecordPayload));
    std::size_t written = 0;
    if (SSL_write_ex(server_.get(), plaintext_.data(), n, &written) != 1 || written != n) return 0;
    ++calls;
    bytes -= n;
    discard();
  }
  return calls;
}

}  // namespace emitlab::bench
