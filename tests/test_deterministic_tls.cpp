// DeterministicTls: pinned TLS 1.3 parameters, byte-identical transcripts for equal seeds (in one
// process and across processes), different bytes for different seeds, and the key log.
#define BOOST_TEST_MODULE test_deterministic_tls
#define BOOST_TEST_NO_MAIN  // main() first answers the cross-process transcript query
#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/deterministic_tls.h"

namespace {

using emitlab::BioPtr;
using emitlab::SslPtr;
using emitlab::sim::DeterministicTls;
using Bytes = std::vector<std::uint8_t>;

constexpr const char* kShaEnv = "EMITLAB_TLS_TRANSCRIPT_SHA";
constexpr std::uint64_t kFixedSeed = 0x5eed'0000'0000'0001;
constexpr std::size_t kPairBuffer = 1 << 16;  // holds a whole flight, so writes never block
constexpr int kMaxRounds = 50;

// Three application writes; the last spans two records.
std::vector<Bytes> app_writes() {
  std::vector<Bytes> writes;
  for (const std::size_t size : {1u, 1000u, 17000u}) {
    Bytes w(size);
    for (std::size_t i = 0; i < size; ++i) w[i] = static_cast<std::uint8_t>(i * 31 + size);
    writes.push_back(std::move(w));
  }
  return writes;
}

std::string openssl_errors() {
  std::string out;
  std::array<char, 256> buf{};
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    ERR_error_string_n(e, buf.data(), buf.size());
    out += std::string(" ") + buf.data();
  }
  return out;
}

struct Transcript {
  Bytes c2s;
  Bytes s2c;
};

// One client/server connection. Each SSL talks to the internal half of its own BIO pair; the
// test moves bytes between the two network halves and records everything it moves.
class Link {
 public:
  explicit Link(const DeterministicTls& tls) : Link(tls, tls) {}
  // A client of one object talking to the server of another (only bytes cross between them).
  Link(const DeterministicTls& client_side, const DeterministicTls& server_side)
      : client_(SSL_new(client_side.client_ctx())), server_(SSL_new(server_side.server_ctx())) {
    if (!client_ || !server_) throw std::runtime_error("SSL_new:" + openssl_errors());
    client_net_ = attach_pair(client_.get());
    server_net_ = attach_pair(server_.get());
    SSL_set_connect_state(client_.get());
    SSL_set_accept_state(server_.get());
  }

  SSL* client() const { return client_.get(); }
  SSL* server() const { return server_.get(); }
  const Transcript& transcript() const { return transcript_; }

  // One round: both sides advance, then bytes move. True once both are done and quiet.
  bool handshake_step() {
    const bool client_done = advance(client_.get());
    const bool server_done = advance(server_.get());
    const bool moved = pump();
    return client_done && server_done && !moved;
  }

  void handshake() {
    for (int round = 0; round < kMaxRounds; ++round) {
      if (handshake_step()) return;
    }
    throw std::runtime_error("handshake did not finish");
  }

  // The server makes one SSL_write per element; returns what the client read back.
  Bytes server_to_client(const std::vector<Bytes>& writes) {
    std::size_t expected = 0;
    for (const Bytes& w : writes) {
      std::size_t written = 0;
      if (SSL_write_ex(server(), w.data(), w.size(), &written) != 1 || written != w.size()) {
        throw std::runtime_error("SSL_write_ex:" + openssl_errors());
      }
      expected += w.size();
      pump();
    }
    return client_read(expected);
  }

 private:
  static BioPtr attach_pair(SSL* ssl) {
    BIO* internal = nullptr;
    BIO* network = nullptr;
    if (BIO_new_bio_pair(&internal, kPairBuffer, &network, kPairBuffer) != 1) {
      throw std::runtime_error("BIO_new_bio_pair:" + openssl_errors());
    }
    SSL_set_bio(ssl, internal, internal);  // the SSL owns the internal half
    return BioPtr(network);
  }

  static bool advance(SSL* ssl) {
    if (SSL_is_init_finished(ssl)) return true;
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) return true;
    const int err = SSL_get_error(ssl, rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      throw std::runtime_error("SSL_do_handshake:" + openssl_errors());
    }
    return false;
  }

  static bool move(BIO* from, BIO* to, Bytes& log) {
    std::array<std::uint8_t, 4096> chunk{};
    bool moved = false;
    for (;;) {
      const std::size_t n =
          std::min({BIO_ctrl_pending(from), BIO_ctrl_get_write_guarantee(to), chunk.size()});
      if (n == 0) return moved;
      const int got = BIO_read(from, chunk.data(), static_cast<int>(n));
      if (got <= 0 || BIO_write(to, chunk.data(), got) != got) {
        throw std::runtime_error("BIO pump failed");
      }
      log.insert(log.end(), chunk.begin(), chunk.begin() + got);
      moved = true;
    }
  }

  bool pump() {
    const bool c2s = move(client_net_.get(), server_net_.get(), transcript_.c2s);
    const bool s2c = move(server_net_.get(), client_net_.get(), transcript_.s2c);
    return c2s || s2c;
  }

  Bytes client_read(std::size_t expected) {
    Bytes got(expected);
    std::size_t have = 0;
    for (int round = 0; have < expected && round < kMaxRounds; ++round) {
      std::size_t n = 0;
      const int rc = SSL_read_ex(client(), got.data() + have, expected - have, &n);
      if (rc == 1) {
        have += n;
      } else if (SSL_get_error(client(), rc) != SSL_ERROR_WANT_READ || !pump()) {
        throw std::runtime_error("SSL_read_ex:" + openssl_errors());
      }
    }
    got.resize(have);
    return got;
  }

  SslPtr client_;
  SslPtr server_;
  BioPtr client_net_;
  BioPtr server_net_;
  Transcript transcript_;
};

Bytes concat(const std::vector<Bytes>& parts) {
  Bytes all;
  for (const Bytes& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

// Handshake plus the three application writes on a fresh SSL pair.
Transcript run_session(const DeterministicTls& tls) {
  Link link(tls);
  link.handshake();
  if (link.server_to_client(app_writes()) != concat(app_writes())) {
    throw std::runtime_error("client received different bytes");
  }
  return link.transcript();
}

bool same(const Transcript& a, const Transcript& b) {
  return a.c2s == b.c2s && a.s2c == b.s2c;
}

std::string sha256_hex(const Transcript& t) {
  // The c2s length frames the concatenation so bytes cannot shift between directions.
  Bytes framed(8);
  for (std::size_t i = 0; i < 8; ++i) framed[i] = static_cast<std::uint8_t>(t.c2s.size() >> 8 * i);
  framed.insert(framed.end(), t.c2s.begin(), t.c2s.end());
  framed.insert(framed.end(), t.s2c.begin(), t.s2c.end());
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  if (EVP_Digest(framed.data(), framed.size(), md.data(), &md_len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest:" + openssl_errors());
  }
  std::string hex;
  for (unsigned int i = 0; i < md_len; ++i) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[md[i] >> 4];
    hex += kDigits[md[i] & 15];
  }
  return hex;
}

// Both handshakes: the psk one makes OpenSSL build sessions (which read time()), and the
// bytes must not depend on when they were made.
std::string fixed_seed_sha() {
  DeterministicTls tls(kFixedSeed);
  const std::string certificate = sha256_hex(run_session(tls));
  tls.set_handshake(emitlab::sim::TlsHandshake::Psk);
  tls.reseed(kFixedSeed);
  return certificate + " " + sha256_hex(run_session(tls));
}

// popen runs /bin/sh, for which /proc/self/exe names the shell: resolve the path here.
std::string sha_from_child_process() {
  const std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  BOOST_REQUIRE(exe.find('\'') == std::string::npos);
  const std::string command = std::string(kShaEnv) + "=1 '" + exe + "'";
  FILE* pipe = popen(command.c_str(), "r");
  BOOST_REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 256> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe) != nullptr) out += buf.data();
  BOOST_TEST(pclose(pipe) == 0);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Bytes rand_bytes(OSSL_LIB_CTX* libctx, std::size_t n, bool priv) {
  Bytes out(n);
  const int rc =
      priv ? RAND_priv_bytes_ex(libctx, out.data(), n, 0) : RAND_bytes_ex(libctx, out.data(), n, 0);
  if (rc != 1) throw std::runtime_error("RAND_bytes_ex:" + openssl_errors());
  return out;
}

std::string rand_name(EVP_RAND_CTX* ctx) {
  return ctx == nullptr ? "<none>" : EVP_RAND_get0_name(EVP_RAND_CTX_get0_rand(ctx));
}

void check_pinned(SSL* ssl) {
  BOOST_TEST(SSL_version(ssl) == TLS1_3_VERSION);
  BOOST_TEST(std::string_view(SSL_CIPHER_standard_name(SSL_get_current_cipher(ssl))) ==
             DeterministicTls::kCipherSuite);
  BOOST_TEST(SSL_get_negotiated_group(ssl) == NID_X25519);
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  BOOST_TEST(std::string_view(reinterpret_cast<const char*>(alpn), alpn_len) == "h2");
}

// The extension types of the transcript's ServerHello (RFC 8446 4.1.3), the first handshake
// message the server sends: record header (5), handshake header (4), legacy_version (2),
// random (32), legacy_session_id_echo (1 + n), cipher_suite (2), compression (1), extensions.
std::vector<unsigned> server_hello_extensions(const Bytes& s2c) {
  std::size_t at = 5 + 4 + 2 + 32;
  BOOST_REQUIRE(s2c.size() > at + 1 && s2c[0] == 22 && s2c[5] == 2);  // handshake, ServerHello
  at += 1 + s2c[at] + 2 + 1;
  BOOST_REQUIRE(s2c.size() >= at + 2);
  const std::size_t end = at + 2 + (std::size_t{s2c[at]} << 8 | s2c[at + 1]);
  BOOST_REQUIRE(s2c.size() >= end);
  std::vector<unsigned> types;
  for (at += 2; at + 4 <= end; at += 4 + (std::size_t{s2c[at + 2]} << 8 | s2c[at + 3])) {
    types.push_back(unsigned{s2c[at]} << 8 | s2c[at + 1]);
  }
  return types;
}

bool has(const std::vector<unsigned>& v, unsigned x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

constexpr unsigned kPreSharedKey = 41;  // RFC 8446 extension types
constexpr unsigned kKeyShare = 51;

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(chacha20_block_matches_rfc8439_vector) {
  // RFC 8439 section 2.3.2.
  std::array<std::uint32_t, 8> key{};
  for (std::uint32_t i = 0; i < 8; ++i) key[i] = 0x03020100u + 0x04040404u * i;
  const std::array<std::uint32_t, 3> nonce = {0x09000000, 0x4a000000, 0};
  const auto block = emitlab::sim::detail::chacha20_block(key, 1, nonce);
  BOOST_TEST(hex(block) ==
             "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
             "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
}

BOOST_AUTO_TEST_CASE(every_drbg_reads_one_shared_rewindable_stream) {
  DeterministicTls tls(7);
  OSSL_LIB_CTX* libctx = tls.libctx();
  BOOST_TEST(rand_name(RAND_get0_primary(libctx)) == DeterministicTls::kRandName);
  BOOST_TEST(rand_name(RAND_get0_public(libctx)) == DeterministicTls::kRandName);
  BOOST_TEST(rand_name(RAND_get0_private(libctx)) == DeterministicTls::kRandName);

  tls.reseed(11);
  const Bytes pub = rand_bytes(libctx, 40, false);
  const Bytes priv = rand_bytes(libctx, 40, true);
  tls.reseed(11);
  BOOST_TEST((rand_bytes(libctx, 80, true) == concat({pub, priv})));

  // Larger than max_request: the core splits it, the stream stays contiguous.
  tls.reseed(11);
  const Bytes big = rand_bytes(libctx, 200000, false);
  tls.reseed(11);
  BOOST_TEST(
      (big == concat({rand_bytes(libctx, 100000, true), rand_bytes(libctx, 100000, false)})));
}

BOOST_AUTO_TEST_CASE(handshake_is_pinned_and_data_arrives_byte_exact) {
  const DeterministicTls tls(1);
  Link link(tls);
  link.handshake();
  check_pinned(link.client());
  check_pinned(link.server());
  BOOST_TEST((link.server_to_client(app_writes()) == concat(app_writes())));
  // TLS 1.3 records add 22 bytes each; four records carry 18001 bytes: no ticket, nothing else.
  BOOST_TEST(link.transcript().s2c.size() > 18001u + 4 * 22);
}

BOOST_AUTO_TEST_CASE(alpn_other_than_h2_is_rejected) {
  const DeterministicTls tls(1);
  Link link(tls);
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  BOOST_REQUIRE(SSL_set_alpn_protos(link.client(), kHttp11, sizeof kHttp11) == 0);
  BOOST_CHECK_THROW(link.handshake(), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(same_seed_in_two_live_objects_gives_identical_transcripts) {
  const DeterministicTls a(42);
  const DeterministicTls b(42);
  // Lockstep: draws alternate between the two libctxs, so any shared state would show.
  Link la(a);
  Link lb(b);
  bool done = false;
  for (int round = 0; round < kMaxRounds && !done; ++round) {
    const bool da = la.handshake_step();
    const bool db = lb.handshake_step();
    done = da && db;
  }
  BOOST_REQUIRE(done);
  BOOST_TEST((la.server_to_client(app_writes()) == lb.server_to_client(app_writes())));
  BOOST_TEST(la.transcript().c2s.size() > 100u);
  BOOST_TEST((la.transcript().c2s == lb.transcript().c2s));
  BOOST_TEST((la.transcript().s2c == lb.transcript().s2c));
  BOOST_TEST(same(la.transcript(), run_session(DeterministicTls(42))));
}

BOOST_AUTO_TEST_CASE(different_seed_gives_different_transcript) {
  const Transcript t42 = run_session(DeterministicTls(42));
  const Transcript t43 = run_session(DeterministicTls(43));
  BOOST_TEST((t42.c2s != t43.c2s));  // client random and key share
  BOOST_TEST((t42.s2c != t43.s2c));  // server random, key share, hence all ciphertext
}

BOOST_AUTO_TEST_CASE(reseed_matches_a_fresh_object) {
  DeterministicTls reused(1);
  run_session(reused);  // advance the stream
  run_session(reused);
  reused.reseed(99);
  const Transcript rewound = run_session(reused);
  BOOST_TEST(same(rewound, run_session(DeterministicTls(99))));
  reused.reseed(99);
  BOOST_TEST(same(rewound, run_session(reused)));
}

BOOST_AUTO_TEST_CASE(keylog_sink_receives_tls13_secrets) {
  DeterministicTls tls(5);
  std::vector<std::string> lines;
  tls.set_keylog_sink([&lines](std::string_view line) { lines.emplace_back(line); });
  const Transcript t = run_session(tls);
  // ClientHello random: 5-byte record header, 4-byte handshake header, 2-byte legacy version.
  BOOST_REQUIRE(t.c2s.size() > 43u);
  const std::string client_random = hex(std::span(t.c2s).subspan(11, 32));
  for (const std::string_view label :
       {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}) {
    const std::string prefix = std::string(label) + " " + client_random + " ";
    bool found = false;
    for (const std::string& line : lines) found = found || line.starts_with(prefix);
    BOOST_TEST(found, label << " for client random " << client_random);
  }
  const std::size_t logged = lines.size();
  tls.set_keylog_sink({});
  run_session(tls);
  BOOST_TEST(lines.size() == logged);
}

// psk: the server accepts the PSK and answers without a key share (psk_ke: no X25519 on its
// side, no certificate, no signature); suite and ALPN stay pinned; data arrives byte exact.
BOOST_AUTO_TEST_CASE(psk_handshake_is_psk_ke_and_data_arrives_byte_exact) {
  DeterministicTls tls(1);
  {
    Link link(tls);  // the certificate handshake first: its ServerHello has a key share
    link.handshake();
    const auto ext = server_hello_extensions(link.transcript().s2c);
    BOOST_TEST(has(ext, kKeyShare));
    BOOST_TEST(!has(ext, kPreSharedKey));
    BOOST_TEST(SSL_session_reused(link.server()) == 0);
  }
  tls.set_handshake(emitlab::sim::TlsHandshake::Psk);
  BOOST_TEST((tls.handshake() == emitlab::sim::TlsHandshake::Psk));
  Link link(tls);
  link.handshake();
  const auto ext = server_hello_extensions(link.transcript().s2c);
  BOOST_TEST(has(ext, kPreSharedKey));
  BOOST_TEST(!has(ext, kKeyShare));
  BOOST_TEST(SSL_session_reused(link.server()) == 1);
  BOOST_TEST(SSL_session_reused(link.client()) == 1);
  BOOST_TEST(SSL_get0_peer_certificate(link.client()) == nullptr);
  for (SSL* ssl : {link.client(), link.server()}) {
    BOOST_TEST(SSL_version(ssl) == TLS1_3_VERSION);
    BOOST_TEST(std::string_view(SSL_CIPHER_standard_name(SSL_get_current_cipher(ssl))) ==
               DeterministicTls::kCipherSuite);
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    BOOST_TEST(std::string_view(reinterpret_cast<const char*>(alpn), alpn_len) == "h2");
  }
  BOOST_TEST((link.server_to_client(app_writes()) == concat(app_writes())));
}

// The PSK is what authenticates: a client whose key came from another seed cannot finish.
BOOST_AUTO_TEST_CASE(psk_from_another_seed_fails_the_handshake) {
  DeterministicTls client(1);
  DeterministicTls server(1);
  client.set_handshake(emitlab::sim::TlsHandshake::Psk);
  server.set_handshake(emitlab::sim::TlsHandshake::Psk);
  {
    Link same_key(client, server);
    BOOST_CHECK_NO_THROW(same_key.handshake());
  }
  client.reseed(2);
  server.reseed(1);
  Link other_key(client, server);
  BOOST_CHECK_THROW(other_key.handshake(), std::runtime_error);
}

// One object switched between handshakes and rewound gives, in each, the bytes of a fresh one.
BOOST_AUTO_TEST_CASE(switched_and_rewound_matches_a_fresh_object_in_both_handshakes) {
  using emitlab::sim::TlsHandshake;
  DeterministicTls fresh_psk(99);
  fresh_psk.set_handshake(TlsHandshake::Psk);
  const Transcript psk = run_session(fresh_psk);
  const Transcript certificate = run_session(DeterministicTls(99));
  BOOST_TEST(!same(psk, certificate));

  DeterministicTls reused(1);
  run_session(reused);
  reused.set_handshake(TlsHandshake::Psk);
  run_session(reused);
  reused.reseed(99);
  BOOST_TEST(same(run_session(reused), psk));
  reused.set_handshake(TlsHandshake::Certificate);
  reused.reseed(99);
  BOOST_TEST(same(run_session(reused), certificate));
  reused.set_handshake(TlsHandshake::Psk);
  reused.reseed(99);
  BOOST_TEST(same(run_session(reused), psk));
  reused.reseed(98);
  BOOST_TEST(!same(run_session(reused), psk));  // another seed: another PSK and randoms
}

BOOST_AUTO_TEST_CASE(transcript_is_identical_across_processes) {
  const std::string in_process = fixed_seed_sha();
  const std::string first = sha_from_child_process();
  const std::string second = sha_from_child_process();
  BOOST_TEST(in_process.size() == 64u + 1 + 64u);
  BOOST_TEST(first == in_process);
  BOOST_TEST(second == in_process);
}

int main(int argc, char* argv[]) {
  if (const char* flag = std::getenv(kShaEnv); flag != nullptr && std::string_view(flag) == "1") {
    try {
      std::cout << fixed_seed_sha() << '\n';
      return 0;
    } catch (const std::exception& e) {
      std::cerr << e.what() << '\n';
      return 1;
    }
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
