#include "sim/deterministic_tls.h"

#include "core/tls_context.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

namespace emitlab::sim {

// ---------------------------------------------------------------------------------------------
// ChaCha20 block function (RFC 8439 section 2.3), written from the RFC text.

namespace detail {
namespace {

constexpr std::uint32_t rotl(std::uint32_t v, int n) {
  return (v << n) | (v >> (32 - n));
}

void quarter_round(std::array<std::uint32_t, 16>& s, int a, int b, int c, int d) {
  s[a] += s[b];
  s[d] = rotl(s[d] ^ s[a], 16);
  s[c] += s[d];
  s[b] = rotl(s[b] ^ s[c], 12);
  s[a] += s[b];
  s[d] = rotl(s[d] ^ s[a], 8);
  s[c] += s[d];
  s[b] = rotl(s[b] ^ s[c], 7);
}

}  // namespace

std::array<std::uint8_t, 64> chacha20_block(const std::array<std::uint32_t, 8>& key,
                                            std::uint32_t counter,
                                            const std::array<std::uint32_t, 3>& nonce) {
  // clang-format off
  const std::array<std::uint32_t, 16> input = {
      0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,  // "expand 32-byte k"
      key[0],     key[1],     key[2],     key[3],
      key[4],     key[5],     key[6],     key[7],
      counter,    nonce[0],   nonce[1],   nonce[2]};
  // clang-format on
  std::array<std::uint32_t, 16> s = input;
  for (int round = 0; round < 10; ++round) {  // 20 rounds = 10 x (column round + diagonal round)
    quarter_round(s, 0, 4, 8, 12);
    quarter_round(s, 1, 5, 9, 13);
    quarter_round(s, 2, 6, 10, 14);
    quarter_round(s, 3, 7, 11, 15);
    quarter_round(s, 0, 5, 10, 15);
    quarter_round(s, 1, 6, 11, 12);
    quarter_round(s, 2, 7, 8, 13);
    quarter_round(s, 3, 4, 9, 14);
  }
  std::array<std::uint8_t, 64> out{};
  for (std::size_t i = 0; i < 16; ++i) {
    const std::uint32_t word = s[i] + input[i];
    for (std::size_t b = 0; b < 4; ++b) out[4 * i + b] = static_cast<std::uint8_t>(word >> (8 * b));
  }
  return out;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// The shared stream: ChaCha20 keystream, key = (seed, fixed domain tag), read strictly in order.

class KeyStream {
 public:
  explicit KeyStream(std::uint64_t seed) { rewind(seed); }

  void rewind(std::uint64_t seed) {
    std::lock_guard lock(mu_);
    key_ = {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
            // The fixed words ("emitlab-tls-rand") keep small seeds from producing the
            // keystream of a low-entropy key someone else also uses.
            0x74696d65, 0x2d62616c, 0x2d736c74, 0x646e6172, 0, 0};
    next_block_ = 0;
    used_ = block_.size();
  }

  void read(std::span<std::uint8_t> out) {
    // Public and private DRBGs of several threads may draw concurrently.
    std::lock_guard lock(mu_);
    while (!out.empty()) {
      if (used_ == block_.size()) refill();
      const std::size_t n = std::min(out.size(), block_.size() - used_);
      std::memcpy(out.data(), block_.data() + used_, n);
      used_ += n;
      out = out.subspan(n);
    }
  }

 private:
  void refill() {
    // RFC 8439 has a 32-bit block counter; the block index's high half goes into the nonce so
    // the stream never repeats.
    block_ = detail::chacha20_block(key_, static_cast<std::uint32_t>(next_block_),
                                    {static_cast<std::uint32_t>(next_block_ >> 32), 0, 0});
    ++next_block_;
    used_ = 0;
  }

  std::mutex mu_;
  std::array<std::uint32_t, 8> key_{};
  std::uint64_t next_block_ = 0;
  std::array<std::uint8_t, 64> block_{};
  std::size_t used_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The in-process provider. Its EVP_RAND serves as seed source and as every DRBG of the libctx.

namespace {

constexpr const char* kProviderName = "emitlab-keystream";
constexpr const char* kRandProperties = "provider=emitlab-keystream";
constexpr unsigned int kStrength = 256;
constexpr std::size_t kMaxRequest = 1 << 16;

// The provider context created by provider_init. It starts without a stream: DeterministicTls
// attaches its stream right after loading the provider, before anything can fetch the RAND.
struct ProviderState {
  KeyStream* stream = nullptr;
};

// One per DRBG instance the core creates (seed source, primary, per-thread public/private).
struct RandInstance {
  explicit RandInstance(KeyStream* s) : stream(s) {}
  KeyStream* stream;
  std::atomic<int> state{EVP_RAND_STATE_UNINITIALISED};
  std::mutex mu;  // what the core's lock/unlock take (it enables locking on the primary)
};

RandInstance* instance(void* vctx) {
  return static_cast<RandInstance*>(vctx);
}

// The parent (seed source) is ignored: every instance reads the shared stream directly, so the
// bytes depend on the seed and the order of draws only.
void* rand_newctx(void* provctx, void* /*parent*/, const OSSL_DISPATCH* /*parent_calls*/) noexcept {
  KeyStream* stream = static_cast<ProviderState*>(provctx)->stream;
  if (stream == nullptr) return nullptr;
  try {
    return std::make_unique<RandInstance>(stream).release();  // owned by the core until freectx
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

void rand_freectx(void* vctx) noexcept {
  std::unique_ptr<RandInstance> owned(instance(vctx));
}

int rand_instantiate(void* vctx, unsigned int strength, int /*prediction_resistance*/,
                     const unsigned char* /*pstr*/, std::size_t /*pstr_len*/,
                     const OSSL_PARAM* /*params*/) noexcept {
  if (strength > kStrength) return 0;
  instance(vctx)->state = EVP_RAND_STATE_READY;
  return 1;
}

int rand_uninstantiate(void* vctx) noexcept {
  instance(vctx)->state = EVP_RAND_STATE_UNINITIALISED;
  return 1;
}

// Additional input and prediction-resistance requests are ignored on purpose: honouring them
// would make the bytes depend on something other than the seed and the draw order.
int rand_generate(void* vctx, unsigned char* out, std::size_t outlen, unsigned int strength,
                  int /*prediction_resistance*/, const unsigned char* /*addin*/,
                  std::size_t /*addin_len*/) noexcept {
  RandInstance* r = instance(vctx);
  if (r->state != EVP_RAND_STATE_READY || strength > kStrength || outlen > kMaxRequest) return 0;
  r->stream->read({out, outlen});
  return 1;
}

// Nothing to enable: every instance has its mutex from the start.
int rand_enable_locking(void* /*vctx*/) noexcept {
  return 1;
}

int rand_lock(void* vctx) noexcept {
  instance(vctx)->mu.lock();
  return 1;
}

void rand_unlock(void* vctx) noexcept {
  instance(vctx)->mu.unlock();
}

const OSSL_PARAM* rand_gettable_ctx_params(void* /*vctx*/, void* /*provctx*/) noexcept {
  static const OSSL_PARAM kGettable[] = {OSSL_PARAM_int(OSSL_RAND_PARAM_STATE, nullptr),
                                         OSSL_PARAM_uint(OSSL_RAND_PARAM_STRENGTH, nullptr),
                                         OSSL_PARAM_size_t(OSSL_RAND_PARAM_MAX_REQUEST, nullptr),
                                         OSSL_PARAM_END};
  return kGettable;
}

// The core asks for state (RAND_status), strength (callers' minimum) and max_request (how
// EVP_RAND_generate splits large requests; it refuses to generate without it).
int rand_get_ctx_params(void* vctx, OSSL_PARAM params[]) noexcept {
  OSSL_PARAM* p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STATE);
  if (p != nullptr && OSSL_PARAM_set_int(p, instance(vctx)->state) != 1) return 0;
  p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_STRENGTH);
  if (p != nullptr && OSSL_PARAM_set_uint(p, kStrength) != 1) return 0;
  p = OSSL_PARAM_locate(params, OSSL_RAND_PARAM_MAX_REQUEST);
  if (p != nullptr && OSSL_PARAM_set_size_t(p, kMaxRequest) != 1) return 0;
  return 1;
}

// Fn is the core's typedef for the slot, so a signature mismatch fails to compile.
template <typename Fn>
OSSL_DISPATCH entry(int id, Fn* fn) {
  return {id, reinterpret_cast<void (*)()>(fn)};
}

// The tables are function-local statics: reinterpret_cast is not a constant expression, so
// namespace-scope tables would be dynamically initialised and could be read before that by a
// DeterministicTls built during another translation unit's static initialisation.
const OSSL_DISPATCH* rand_functions() {
  static const OSSL_DISPATCH kTable[] = {
      entry<OSSL_FUNC_rand_newctx_fn>(OSSL_FUNC_RAND_NEWCTX, rand_newctx),
      entry<OSSL_FUNC_rand_freectx_fn>(OSSL_FUNC_RAND_FREECTX, rand_freectx),
      entry<OSSL_FUNC_rand_instantiate_fn>(OSSL_FUNC_RAND_INSTANTIATE, rand_instantiate),
      entry<OSSL_FUNC_rand_uninstantiate_fn>(OSSL_FUNC_RAND_UNINSTANTIATE, rand_uninstantiate),
      entry<OSSL_FUNC_rand_generate_fn>(OSSL_FUNC_RAND_GENERATE, rand_generate),
      entry<OSSL_FUNC_rand_enable_locking_fn>(OSSL_FUNC_RAND_ENABLE_LOCKING, rand_enable_locking),
      entry<OSSL_FUNC_rand_lock_fn>(OSSL_FUNC_RAND_LOCK, rand_lock),
      entry<OSSL_FUNC_rand_unlock_fn>(OSSL_FUNC_RAND_UNLOCK, rand_unlock),
      entry<OSSL_FUNC_rand_gettable_ctx_params_fn>(OSSL_FUNC_RAND_GETTABLE_CTX_PARAMS,
                                                   rand_gettable_ctx_params),
      entry<OSSL_FUNC_rand_get_ctx_params_fn>(OSSL_FUNC_RAND_GET_CTX_PARAMS, rand_get_ctx_params),
      {0, nullptr}};
  return kTable;
}

const OSSL_ALGORITHM* rand_algorithms() {
  static const OSSL_ALGORITHM kTable[] = {
      {DeterministicTls::kRandName, kRandProperties, rand_functions(), "seeded ChaCha20 keystream"},
      {nullptr, nullptr, nullptr, nullptr}};
  return kTable;
}

const OSSL_ALGORITHM* provider_query(void* /*provctx*/, int operation_id, int* no_cache) noexcept {
  *no_cache = 0;
  return operation_id == OSSL_OP_RAND ? rand_algorithms() : nullptr;
}

void provider_teardown(void* provctx) noexcept {
  std::unique_ptr<ProviderState> owned(static_cast<ProviderState*>(provctx));
}

const OSSL_DISPATCH* provider_functions() {
  static const OSSL_DISPATCH kTable[] = {
      entry<OSSL_FUNC_provider_query_operation_fn>(OSSL_FUNC_PROVIDER_QUERY_OPERATION,
                                                   provider_query),
      entry<OSSL_FUNC_provider_teardown_fn>(OSSL_FUNC_PROVIDER_TEARDOWN, provider_teardown),
      {0, nullptr}};
  return kTable;
}

// Runs once per libctx that loads the provider; no process-global state, so several
// DeterministicTls objects never share a stream.
int provider_init(const OSSL_CORE_HANDLE* /*handle*/, const OSSL_DISPATCH* /*in*/,
                  const OSSL_DISPATCH** out, void** provctx) noexcept {
  try {
    *provctx = std::make_unique<ProviderState>().release();  // owned by the core until teardown
  } catch (const std::bad_alloc&) {
    return 0;
  }
  *out = provider_functions();
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Context construction helpers.

// Generated once with
//   openssl req -x509 -newkey ed25519 -nodes -days 36500 -subj /CN=emitlab.test
// A fixed key and certificate keep the Certificate message identical in every run.
constexpr std::string_view kServerKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDKj3g4zt0qXLiXfcGwFU2x8XCOBLuG3RsJHzO3v2Oj7\n"
    "-----END PRIVATE KEY-----\n";

constexpr std::string_view kServerCertPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBRDCB96ADAgECAhQd/tZdVU2e/O6zsSvAQlr9jSvR+zAFBgMrZXAwFzEVMBMG\n"
    "A1UEAwwMZW1pdGxhYi50ZXN0MCAXDTI2MTEyNjA3MTgyNVoYDzIxMjYxMTAyMDcx\n"
    "ODI1WjAXMRUwEwYDVQQDDAxlbWl0bGFiLnRlc3QwKjAFBgMrZXADIQDwKmGwMbOe\n"
    "Fek73yYjQgoaMXgQzG94J0ycXdStf1LuO6NTMFEwHQYDVR0OBBYEFGn2lcOs77E4\n"
    "2oVidInGxo1qSZiUMB8GA1UdIwQYMBaAFGn2lcOs77E42oVidInGxo1qSZiUMA8G\n"
    "A1UdEwEB/wQFMAMBAf8wBQYDK2VwA0EAkaf60JSSfOnRvzYsehA2Q7db/HUsq5ve\n"
    "Byd5BYFl85+bngRsLd1wiv6xrLzIcojzTCRe/mN8hJ9EUWOzKPctDQ==\n"
    "-----END CERTIFICATE-----\n";

// Drains the whole OpenSSL error queue into the message, so the root cause is not lost.
[[noreturn]] void throw_openssl(std::string_view what) {
  std::string message(what);
  std::array<char, 256> buf{};
  for (unsigned long err = ERR_get_error(); err != 0; err = ERR_get_error()) {
    ERR_error_string_n(err, buf.data(), buf.size());
    message += ": ";
    message += buf.data();
  }
  throw std::runtime_error(message);
}

void require(bool ok, std::string_view what) {
  if (!ok) throw_openssl(what);
}

BioPtr pem_bio(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  require(bio != nullptr, "BIO_new_mem_buf");
  return bio;
}

EvpPkeyPtr load_server_key(OSSL_LIB_CTX* libctx) {
  const BioPtr bio = pem_bio(kServerKeyPem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, nullptr, nullptr, libctx, nullptr));
  require(key != nullptr, "PEM_read_bio_PrivateKey_ex");
  return key;
}

// OpenSSL 3.0 has no PEM_read_bio_X509_ex: create the object on the libctx and let the PEM
// reader fill it in place. On a decode failure the reader frees the object and nulls the pointer.
X509Ptr load_server_cert(OSSL_LIB_CTX* libctx) {
  const BioPtr bio = pem_bio(kServerCertPem);
  X509* cert = X509_new_ex(libctx, nullptr);
  require(cert != nullptr, "X509_new_ex");
  if (PEM_read_bio_X509(bio.get(), &cert, nullptr, nullptr) == nullptr) {
    X509_free(cert);
    throw_openssl("PEM_read_bio_X509");
  }
  return X509Ptr(cert);
}

// Pins every negotiable parameter so the handshake takes one path only. Tickets embed time()
// and the session cache only makes later handshakes depend on earlier ones.
void pin_tls13(SSL_CTX* ctx) {
  require(SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1, "set_min_proto_version");
  require(SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1, "set_max_proto_version");
  require(SSL_CTX_set_ciphersuites(ctx, DeterministicTls::kCipherSuite) == 1,
          "SSL_CTX_set_ciphersuites");
  require(SSL_CTX_set1_groups_list(ctx, DeterministicTls::kGroup) == 1, "SSL_CTX_set1_groups_list");
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | kServerContextOptions);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// DeterministicTls

DeterministicTls::DeterministicTls(std::uint64_t seed)
    : stream_(std::make_unique<KeyStream>(seed)), libctx_(OSSL_LIB_CTX_new()) {
  require(libctx_ != nullptr, "OSSL_LIB_CTX_new");
  install_rand_provider();
  server_ctx_ = make_server_ctx();
  client_ctx_ = make_client_ctx();
  // The contexts drew randomness while being built (ticket and cookie keys, unused here).
  // Rewind so the first connection reads the stream from its start, as after reseed(seed).
  reseed(seed);
}

DeterministicTls::~DeterministicTls() {
  client_ctx_.reset();
  server_ctx_.reset();
  // OSSL_LIB_CTX_free does not drop the references OSSL_PROVIDER_load handed out: unload
  // first or LeakSanitizer reports the providers and everything they own.
  rand_provider_.reset();
  default_provider_.reset();
  libctx_.reset();  // frees the DRBG instances, which read stream_ until then
}

void DeterministicTls::install_rand_provider() {
  OSSL_LIB_CTX* ctx = libctx_.get();
  require(OSSL_PROVIDER_add_builtin(ctx, kProviderName, provider_init) == 1,
          "OSSL_PROVIDER_add_builtin");
  // Loading any provider explicitly turns off the implicit fallback to "default", which libssl
  // still needs for AES-GCM, SHA-256, X25519 and Ed25519.
  default_provider_.reset(OSSL_PROVIDER_load(ctx, "default"));
  require(default_provider_ != nullptr, "OSSL_PROVIDER_load(default)");
  rand_provider_.reset(OSSL_PROVIDER_load(ctx, kProviderName));
  require(rand_provider_ != nullptr, "OSSL_PROVIDER_load(emitlab-keystream)");
  // provider_init created this context for our libctx only; attach the stream before the first
  // fetch can create a DRBG instance (rand_newctx refuses to run without it).
  auto* state = static_cast<ProviderState*>(OSSL_PROVIDER_get0_provider_ctx(rand_provider_.get()));
  require(state != nullptr, "OSSL_PROVIDER_get0_provider_ctx");
  state->stream = stream_.get();
  // Must run before anything draws randomness in this libctx (SSL_CTX_new_ex does); afterwards
  // both calls fail because the DRBGs are already instantiated.
  require(RAND_set_seed_source_type(ctx, kRandName, kRandProperties) == 1,
          "RAND_set_seed_source_type");
  require(RAND_set_DRBG_type(ctx, kRandName, kRandProperties, nullptr, nullptr) == 1,
          "RAND_set_DRBG_type");
}

SslCtxPtr DeterministicTls::make_server_ctx() {
  SslCtxPtr ctx(SSL_CTX_new_ex(libctx_.get(), nullptr, TLS_server_method()));
  require(ctx != nullptr, "SSL_CTX_new_ex(server)");
  pin_tls13(ctx.get());
  require(SSL_CTX_set_num_tickets(ctx.get(), 0) == 1, "SSL_CTX_set_num_tickets");
  const X509Ptr cert = load_server_cert(libctx_.get());
  const EvpPkeyPtr key = load_server_key(libctx_.get());
  require(SSL_CTX_use_certificate(ctx.get(), cert.get()) == 1, "SSL_CTX_use_certificate");
  require(SSL_CTX_use_PrivateKey(ctx.get(), key.get()) == 1, "SSL_CTX_use_PrivateKey");
  require(SSL_CTX_check_private_key(ctx.get()) == 1, "SSL_CTX_check_private_key");
  select_h2_alpn(ctx.get());
  // forward_keylog finds this object through the context (the callback has no user argument).
  SSL_CTX_set_app_data(ctx.get(), this);
  return ctx;
}

SslCtxPtr DeterministicTls::make_client_ctx() {
  SslCtxPtr ctx(SSL_CTX_new_ex(libctx_.get(), nullptr, TLS_client_method()));
  require(ctx != nullptr, "SSL_CTX_new_ex(client)");
  pin_tls13(ctx.get());
  // Verification compares the certificate's validity period with the wall clock. With
  // SSL_VERIFY_NONE OpenSSL still computes the verdict but ignores it, so the date can never
  // change the handshake; the peer is our own embedded certificate anyway.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  static constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};
  // Unlike most of the API, SSL_CTX_set_alpn_protos returns 0 on success.
  require(SSL_CTX_set_alpn_protos(ctx.get(), kAlpnH2, sizeof kAlpnH2) == 0,
          "SSL_CTX_set_alpn_protos");
  SSL_CTX_set_app_data(ctx.get(), this);  // use_psk finds the PSK through the context
  return ctx;
}

void DeterministicTls::reseed(std::uint64_t seed) {
  stream_->rewind(seed);
  // The PSK comes from a block of another key (domain "emitlab-tls-psk"), so it is not a prefix
  // of the stream both sides draw their randoms from.
  const std::array<std::uint8_t, 64> block = detail::chacha20_block(
      {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32), 0x74696d65,
       0x2d62616c, 0x2d736c74, 0x006b7370, 0, 0},
      0, {0, 0, 0});
  std::copy_n(block.begin(), psk_.size(), psk_.begin());
}

// What OpenSSL 3.0 negotiates between two of its own endpoints: its client always offers
// psk_dhe_ke and sends an X25519 key share, and its server uses that share whenever it can,
// so a PSK alone still costs the full key exchange. SSL_OP_ALLOW_NO_DHE_KEX on the client adds
// psk_ke to the offered modes and on the server lets it accept psk_ke; giving the server only a
// group the client does not support (X448) leaves it no share to use and no group to ask for
// in a HelloRetryRequest, and then (final_key_share, with the PSK accepted) it completes in
// psk_ke. The client still generates its one key share, which nobody uses.
void DeterministicTls::set_handshake(TlsHandshake handshake) {
  if (handshake == handshake_) return;
  SSL_CTX* server = server_ctx_.get();
  SSL_CTX* client = client_ctx_.get();
  if (handshake == TlsHandshake::Psk) {
    SSL_CTX_set_options(server, SSL_OP_ALLOW_NO_DHE_KEX);
    SSL_CTX_set_options(client, SSL_OP_ALLOW_NO_DHE_KEX);
    require(SSL_CTX_set1_groups_list(server, kPskServerGroup) == 1, "SSL_CTX_set1_groups_list");
    SSL_CTX_set_psk_find_session_callback(server, &find_psk);
    SSL_CTX_set_psk_use_session_callback(client, &use_psk);
  } else {
    SSL_CTX_clear_options(server, SSL_OP_ALLOW_NO_DHE_KEX);
    SSL_CTX_clear_options(client, SSL_OP_ALLOW_NO_DHE_KEX);
    require(SSL_CTX_set1_groups_list(server, kGroup) == 1, "SSL_CTX_set1_groups_list");
    SSL_CTX_set_psk_find_session_callback(server, nullptr);
    SSL_CTX_set_psk_use_session_callback(client, nullptr);
  }
  handshake_ = handshake;
}

SSL_SESSION* DeterministicTls::psk_session(SSL* ssl) const noexcept {
  static constexpr unsigned char kSuiteId[] = {0x13, 0x01};  // TLS_AES_128_GCM_SHA256
  const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, kSuiteId);
  SSL_SESSION* session = SSL_SESSION_new();
  if (cipher == nullptr || session == nullptr ||
      SSL_SESSION_set1_master_key(session, psk_.data(), psk_.size()) != 1 ||
      SSL_SESSION_set_cipher(session, cipher) != 1 ||
      SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(session);
    return nullptr;
  }
  return session;
}

// The client's callback, asked for the first ClientHello (md null) and again after a
// HelloRetryRequest (md: the negotiated suite's hash, which with one suite is the PSK's).
int DeterministicTls::use_psk(SSL* ssl, const EVP_MD* /*md*/, const unsigned char** id,
                              std::size_t* idlen, SSL_SESSION** session) noexcept {
  const auto* self =
      static_cast<const DeterministicTls*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  *session = self != nullptr ? self->psk_session(ssl) : nullptr;
  if (*session == nullptr) return 0;
  *id = reinterpret_cast<const unsigned char*>(kPskIdentity.data());
  *idlen = kPskIdentity.size();
  return 1;
}

// The server's callback: an unknown identity is no PSK (the handshake then fails, psk_ke
// having no certificate path to fall back to with the server's group).
int DeterministicTls::find_psk(SSL* ssl, const unsigned char* identity, std::size_t identity_len,
                               SSL_SESSION** session) noexcept {
  *session = nullptr;
  const auto* self =
      static_cast<const DeterministicTls*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  const std::string_view named(reinterpret_cast<const char*>(identity), identity_len);
  if (self == nullptr || named != kPskIdentity) return 1;
  *session = self->psk_session(ssl);
  return *session != nullptr ? 1 : 0;
}

void DeterministicTls::set_keylog_sink(std::function<void(std::string_view line)> sink) {
  keylog_sink_ = std::move(sink);
  // Without a callback OpenSSL skips formatting the lines, so install it only while needed.
  SSL_CTX_set_keylog_callback(server_ctx_.get(), keylog_sink_ ? &forward_keylog : nullptr);
}

void DeterministicTls::forward_keylog(const SSL* ssl, const char* line) noexcept {
  const auto* self =
      static_cast<const DeterministicTls*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (self != nullptr && self->keylog_sink_) self->keylog_sink_(line);
}

}  // namespace emitlab::sim
