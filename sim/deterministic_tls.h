// A TLS 1.3 client/server context pair whose every random byte comes from a seeded keystream, so
// identically seeded simulations produce byte-identical ciphertext in any process.
//
// Two handshakes (sim/tls_handshake.h), switched between connections by set_handshake():
// certificate (X25519 key exchange, the embedded Ed25519 certificate verified by the client) and
// psk (an external PSK derived from the seed, psk_ke: no key exchange on the server, no
// certificate, no signature). Both negotiate TLS_AES_128_GCM_SHA256 and ALPN h2, without tickets.
//
// All randomness of the private OSSL_LIB_CTX (both SSL_CTXs, every DRBG instance, every thread)
// is read in order from ONE stream owned by this object; client and server draws interleave
// deterministically as long as the caller drives the connections deterministically.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "core/ossl_handles.h"
#include "sim/tls_handshake.h"

namespace emitlab::sim {

class KeyStream;  // the shared seeded stream; defined in deterministic_tls.cpp

class DeterministicTls {
 public:
  // Throws std::runtime_error carrying the OpenSSL error queue if any context cannot be built.
  explicit DeterministicTls(std::uint64_t seed);
  // Unloads the providers before freeing the libctx (LSan-clean). Every SSL made from
  // server_ctx()/client_ctx() must be freed before this object: they use its libctx.
  ~DeterministicTls();
  DeterministicTls(const DeterministicTls&) = delete;
  DeterministicTls& operator=(const DeterministicTls&) = delete;

  SSL_CTX* server_ctx() const { return server_ctx_.get(); }  // borrowed
  SSL_CTX* client_ctx() const { return client_ctx_.get(); }  // borrowed
  OSSL_LIB_CTX* libctx() const { return libctx_.get(); }     // borrowed

  // Rewinds the shared random stream to the start of `seed`'s keystream and derives the PSK from
  // `seed` (cheap: no OpenSSL objects are rebuilt). The constructor ends with reseed(seed), so a
  // new object and a rewound one hand out the same bytes to the next connection.
  void reseed(std::uint64_t seed);

  // Which handshake connections made from now on make (certificate until set). Reconfigures
  // both contexts in place (options, the server's groups, the PSK callbacks); set it while no
  // handshake is in progress.
  void set_handshake(TlsHandshake handshake);
  TlsHandshake handshake() const { return handshake_; }

  // NSS key log lines (SSL_CTX_set_keylog_callback) of the server side go to this sink when set;
  // an empty function turns key logging off. Set it while no handshake is in progress.
  void set_keylog_sink(std::function<void(std::string_view line)> sink);

  static constexpr const char* kCipherSuite = "TLS_AES_128_GCM_SHA256";
  static constexpr const char* kGroup = "X25519";
  static constexpr const char* kRandName = "EMITLAB-KEYSTREAM";  // EVP_RAND name in libctx()
  // psk: the identity both sides name, and the server's only group, one the client does not
  // offer (see set_handshake: what makes OpenSSL 3.0 settle for psk_ke).
  static constexpr std::string_view kPskIdentity = "emitlab-psk";
  static constexpr const char* kPskServerGroup = "X448";

 private:
  static void forward_keylog(const SSL* ssl, const char* line) noexcept;
  static int use_psk(SSL* ssl, const EVP_MD* md, const unsigned char** id, std::size_t* idlen,
                     SSL_SESSION** session) noexcept;
  static int find_psk(SSL* ssl, const unsigned char* identity, std::size_t identity_len,
                      SSL_SESSION** session) noexcept;
  SSL_SESSION* psk_session(SSL* ssl) const noexcept;  // a new session holding psk_, or null
  void install_rand_provider();
  SslCtxPtr make_server_ctx();
  SslCtxPtr make_client_ctx();

  // Declaration order is destruction order when a constructor throws: contexts, then
  // providers, then the libctx (whose DRBGs still read the stream), then the stream.
  std::unique_ptr<KeyStream> stream_;
  LibCtxPtr libctx_;
  ProviderPtr default_provider_;
  ProviderPtr rand_provider_;
  SslCtxPtr server_ctx_;
  SslCtxPtr client_ctx_;
  std::function<void(std::string_view)> keylog_sink_;
  TlsHandshake handshake_ = TlsHandshake::Certificate;
  std::array<std::uint8_t, 32> psk_{};
};

namespace detail {

// The ChaCha20 block function of RFC 8439 section 2.3 (exposed for its test vector).
std::array<std::uint8_t, 64> chacha20_block(const std::array<std::uint32_t, 8>& key,
                                            std::uint32_t counter,
                                            const std::array<std::uint32_t, 3>& nonce);

}  // namespace detail
}  // namespace emitlab::sim
