// SimPeer against a tiny test-local HTTP/2-over-TLS server (OpenSSL server SSL + nghttp2 server
// session over a BIO pair), so the peer is tested without depending on core/'s emitter.
#define BOOST_TEST_MODULE sim_peer
#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/nghttp2_handles.h"
#include "core/ossl_handles.h"
#include "sim/body_pattern.h"
#include "sim/sim_peer.h"

namespace emitlab::sim {
namespace {

constexpr std::uint64_t kSeed = 42;
constexpr long kRingSize = 64 * 1024;
constexpr auto kAlpnH2 = std::to_array<unsigned char>({2, 'h', '2'});

using SizeFn = std::function<std::size_t(std::uint64_t request_id)>;

// ---------------------------------------------------------------------------------------------
// TLS contexts with a throwaway Ed25519 identity

X509Ptr make_self_signed(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  BOOST_REQUIRE(cert);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>("emitlab.test");
  // Fixed validity so the test reads no clock; the client does not verify anyway.
  BOOST_REQUIRE(X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
                ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1 &&
                ASN1_TIME_set_string_X509(X509_getm_notBefore(cert.get()), "20240101000000Z") &&
                ASN1_TIME_set_string_X509(X509_getm_notAfter(cert.get()), "20440101000000Z") &&
                X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) == 1 &&
                X509_set_issuer_name(cert.get(), name) == 1 &&
                X509_set_pubkey(cert.get(), key) == 1);
  BOOST_REQUIRE(X509_sign(cert.get(), key, nullptr) > 0);  // Ed25519 takes no separate digest
  return cert;
}

int select_h2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
              unsigned int inlen, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnH2.data(), kAlpnH2.size(), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

SslCtxPtr make_server_ctx() {
  const EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  BOOST_REQUIRE(key);
  const X509Ptr cert = make_self_signed(key.get());
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  BOOST_REQUIRE(ctx);
  BOOST_REQUIRE(SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) == 1);
  BOOST_REQUIRE(SSL_CTX_use_certificate(ctx.get(), cert.get()) == 1);
  BOOST_REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), key.get()) == 1);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  SSL_CTX_set_alpn_select_cb(ctx.get(), &select_h2, nullptr);
  return ctx;
}

SslCtxPtr make_client_ctx() {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  BOOST_REQUIRE(ctx);
  BOOST_REQUIRE(SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) == 1);
  BOOST_REQUIRE(SSL_CTX_set_alpn_protos(ctx.get(), kAlpnH2.data(), kAlpnH2.size()) == 0);
  return ctx;
}

// ---------------------------------------------------------------------------------------------
// The test server: answers GET /r/<id> with 200, x-emitlab-request: <id>, make_body(kSeed, id, n)

enum class Ending { kNone, kGoaway, kCloseNotify };

struct ServerOptions {
  SizeFn body_size = [](std::uint64_t) { return std::size_t{100}; };
  std::optional<std::uint64_t> corrupt_request;  // flip one body byte of this request
  std::size_t corrupt_offset = 0;
  bool trailers = false;  // send x-emitlab-trailer: <id> after the body
  std::size_t respond_limit = std::numeric_limits<std::size_t>::max();  // answer only so many
  Ending ending = Ending::kNone;
  std::size_t end_after = 0;                     // completed responses before the ending
  bool hold_output = false;                      // withhold all HTTP/2 output until release()
  std::vector<std::uint8_t> raw_after_settings;  // plaintext injected after the server SETTINGS
  // Instead of a response: a HEADERS frame carrying this HPACK fragment without END_HEADERS, and
  // never the rest of the block (what a peer sees when the connection drops mid-block).
  std::optional<std::vector<std::uint8_t>> cut_header_block;
};

struct ServerStream {
  std::uint64_t request_id = 0;
  std::vector<std::uint8_t> body;
  std::size_t sent = 0;
  bool responded = false;
};

class TestServer {
 public:
  TestServer(SSL_CTX* ctx, ServerOptions opt) : opt_(std::move(opt)) {
    ssl_.reset(SSL_new(ctx));
    BIO* internal = nullptr;
    BIO* network = nullptr;
    BOOST_REQUIRE(ssl_ && BIO_new_bio_pair(&internal, kRingSize, &network, kRingSize) == 1);
    net_.reset(network);
    SSL_set_bio(ssl_.get(), internal, internal);
    SSL_set_accept_state(ssl_.get());
    init_session();
  }

  void on_wire(std::span<const std::uint8_t> data) {
    while (!data.empty() && !closed_) {
      const int n = BIO_write(net_.get(), data.data(), static_cast<int>(data.size()));
      BOOST_REQUIRE(n > 0);
      data = data.subspan(static_cast<std::size_t>(n));
      drive();
    }
  }
  std::vector<std::uint8_t> take_outbound() { return std::exchange(out_, {}); }
  void release() {
    opt_.hold_output = false;
    flush();
  }

  const std::string& error() const { return error_; }
  std::size_t requests_received() const { return arrivals_.size(); }
  std::size_t max_open() const { return max_open_; }
  // For each request id: how many responses had completed when its request arrived.
  const std::map<std::uint64_t, std::size_t>& arrivals() const { return arrivals_; }

 private:
  struct Cb;

  void init_session();
  void drive();
  void read_all();
  void flush();
  void write(const std::uint8_t* data, std::size_t len);
  void move_output();
  void maybe_end();
  void respond(std::int32_t stream_id);
  void send_cut_header_block(std::int32_t stream_id);
  void on_closed(std::int32_t stream_id, std::uint32_t error_code);
  ssize_t read_body(std::int32_t stream_id, std::uint8_t* buf, std::size_t len,
                    std::uint32_t* flags);

  ServerOptions opt_;
  SslPtr ssl_;
  BioPtr net_;
  NgSessionPtr session_;
  std::vector<std::uint8_t> out_;
  std::map<std::int32_t, ServerStream> streams_;
  std::map<std::uint64_t, std::size_t> arrivals_;
  std::string error_;
  bool handshake_done_ = false;
  bool closed_ = false;
  bool settings_sent_ = false;
  bool ended_ = false;
  std::size_t open_ = 0;
  std::size_t max_open_ = 0;
  std::size_t responses_started_ = 0;
  std::size_t responses_completed_ = 0;
  std::int32_t last_responded_stream_ = 0;
};

struct TestServer::Cb {
  static TestServer& s(void* ud) { return *static_cast<TestServer*>(ud); }
  static int begin_headers(nghttp2_session*, const nghttp2_frame* f, void* ud) {
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    s(ud).streams_[f->hd.stream_id];
    s(ud).max_open_ = std::max(s(ud).max_open_, ++s(ud).open_);
    return 0;
  }
  static int header(nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* name,
                    std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                    std::uint8_t, void* ud) {
    const std::string n(reinterpret_cast<const char*>(name), namelen);
    const std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":path" && v.starts_with("/r/")) {
      s(ud).streams_[f->hd.stream_id].request_id = std::stoull(v.substr(3));
    }
    return 0;
  }
  static int frame_recv(nghttp2_session*, const nghttp2_frame* f, void* ud) {
    if (f->hd.type == NGHTTP2_HEADERS && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
      s(ud).respond(f->hd.stream_id);
    }
    return 0;
  }
  static int stream_close(nghttp2_session*, std::int32_t id, std::uint32_t code, void* ud) {
    s(ud).on_closed(id, code);
    return 0;
  }
  static ssize_t read(nghttp2_session*, std::int32_t id, std::uint8_t* buf, std::size_t len,
                      std::uint32_t* flags, nghttp2_data_source*, void* ud) {
    return s(ud).read_body(id, buf, len, flags);
  }
};

void TestServer::init_session() {
  nghttp2_session_callbacks* raw = nullptr;
  BOOST_REQUIRE(nghttp2_session_callbacks_new(&raw) == 0);
  const NgCallbacksPtr cbs(raw);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs.get(), &Cb::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs.get(), &Cb::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs.get(), &Cb::frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs.get(), &Cb::stream_close);
  nghttp2_session* session = nullptr;
  BOOST_REQUIRE(nghttp2_session_server_new(&session, cbs.get(), this) == 0);
  session_.reset(session);
  const nghttp2_settings_entry max_streams{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100};
  BOOST_REQUIRE(nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, &max_streams, 1) == 0);
}

void TestServer::drive() {
  if (!handshake_done_) {
    const int rv = SSL_do_handshake(ssl_.get());
    move_output();
    if (rv != 1) {
      if (SSL_get_error(ssl_.get(), rv) != SSL_ERROR_WANT_READ) error_ = "server handshake";
      return;
    }
    handshake_done_ = true;
    flush();  // the server preface (SETTINGS)
  }
  read_all();
}

// Reads everything available before answering, like a real server's read pass: requests that
// arrive together are then open together.
void TestServer::read_all() {
  std::array<std::uint8_t, 16384> buf;
  for (;;) {
    std::size_t n = 0;
    const int rv = SSL_read_ex(ssl_.get(), buf.data(), buf.size(), &n);
    if (rv != 1) {
      const int err = SSL_get_error(ssl_.get(), rv);
      if (err == SSL_ERROR_ZERO_RETURN) closed_ = true;
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_ZERO_RETURN) error_ = "server read";
      break;
    }
    if (nghttp2_session_mem_recv(session_.get(), buf.data(), n) < 0) error_ = "server mem_recv";
  }
  if (!closed_) flush();
}

void TestServer::flush() {
  if (opt_.hold_output || ended_) return;
  for (;;) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session_.get(), &data);
    if (n <= 0) break;
    write(data, static_cast<std::size_t>(n));
    settings_sent_ = true;  // the first frame a server session sends is its SETTINGS
  }
  if (settings_sent_ && !opt_.raw_after_settings.empty()) {
    write(opt_.raw_after_settings.data(), opt_.raw_after_settings.size());
    opt_.raw_after_settings.clear();
  }
  maybe_end();
}

void TestServer::write(const std::uint8_t* data, std::size_t len) {
  std::size_t n = 0;
  BOOST_REQUIRE(SSL_write_ex(ssl_.get(), data, len, &n) == 1 && n == len);
  move_output();
}

void TestServer::move_output() {
  std::array<std::uint8_t, 16384> buf;
  for (int n = BIO_read(net_.get(), buf.data(), buf.size()); n > 0;
       n = BIO_read(net_.get(), buf.data(), buf.size())) {
    out_.insert(out_.end(), buf.begin(), buf.begin() + n);
  }
}

void TestServer::maybe_end() {
  if (opt_.ending != Ending::kCloseNotify || responses_completed_ < opt_.end_after ||
      nghttp2_session_want_write(session_.get())) {
    return;
  }
  ended_ = true;
  SSL_shutdown(ssl_.get());
  move_output();
}

void TestServer::respond(std::int32_t stream_id) {
  ServerStream& st = streams_[stream_id];
  arrivals_[st.request_id] = responses_completed_;
  if (responses_started_ == opt_.respond_limit) return;  // leave it hanging
  ++responses_started_;
  st.responded = true;
  last_responded_stream_ = stream_id;
  if (opt_.cut_header_block) return send_cut_header_block(stream_id);
  st.body = make_body(kSeed, st.request_id, opt_.body_size(st.request_id));
  if (opt_.corrupt_request == st.request_id) st.body.at(opt_.corrupt_offset) ^= 0xff;
  const std::string id = std::to_string(st.request_id);
  const std::array<nghttp2_nv, 2> nva{{
      {const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(":status")),
       const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>("200")), 7, 3,
       NGHTTP2_NV_FLAG_NONE},
      {const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>("x-emitlab-request")),
       const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(id.data())), 17, id.size(),
       NGHTTP2_NV_FLAG_NONE},
  }};
  nghttp2_data_provider provider{};
  provider.read_callback = &Cb::read;
  // An empty body without trailers goes out as HEADERS with END_STREAM.
  const bool headers_only = st.body.empty() && !opt_.trailers;
  BOOST_REQUIRE(nghttp2_submit_response(session_.get(), stream_id, nva.data(), nva.size(),
                                        headers_only ? nullptr : &provider) == 0);
}

void TestServer::send_cut_header_block(std::int32_t stream_id) {
  const std::vector<std::uint8_t>& fragment = *opt_.cut_header_block;
  const auto len = static_cast<std::uint32_t>(fragment.size());
  const auto id = static_cast<std::uint32_t>(stream_id);
  std::vector<std::uint8_t> frame{static_cast<std::uint8_t>(len >> 16),
                                  static_cast<std::uint8_t>(len >> 8),
                                  static_cast<std::uint8_t>(len),
                                  NGHTTP2_HEADERS,
                                  NGHTTP2_FLAG_NONE,
                                  static_cast<std::uint8_t>(id >> 24),
                                  static_cast<std::uint8_t>(id >> 16),
                                  static_cast<std::uint8_t>(id >> 8),
                                  static_cast<std::uint8_t>(id)};
  frame.insert(frame.end(), fragment.begin(), fragment.end());
  write(frame.data(), frame.size());
}

ssize_t TestServer::read_body(std::int32_t stream_id, std::uint8_t* buf, std::size_t len,
                              std::uint32_t* flags) {
  ServerStream& st = streams_[stream_id];
  const std::size_t n = std::min(len, st.body.size() - st.sent);
  std::copy_n(st.body.begin() + static_cast<std::ptrdiff_t>(st.sent), n, buf);
  st.sent += n;
  if (st.sent < st.body.size()) return static_cast<ssize_t>(n);
  *flags |= NGHTTP2_DATA_FLAG_EOF;
  if (opt_.trailers) {
    *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    const std::string id = std::to_string(st.request_id);
    const nghttp2_nv trailer{
        const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>("x-emitlab-trailer")),
        const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(id.data())), 17, id.size(),
        NGHTTP2_NV_FLAG_NONE};
    if (nghttp2_submit_trailer(session_.get(), stream_id, &trailer, 1) != 0) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
  }
  return static_cast<ssize_t>(n);
}

void TestServer::on_closed(std::int32_t stream_id, std::uint32_t error_code) {
  --open_;
  if (!streams_[stream_id].responded || error_code != 0) return;
  ++responses_completed_;
  if (opt_.ending == Ending::kGoaway && responses_completed_ == opt_.end_after) {
    // Submitting (not sending) from inside a callback is allowed; flush() sends it.
    nghttp2_submit_goaway(session_.get(), NGHTTP2_FLAG_NONE, last_responded_stream_,
                          NGHTTP2_NO_ERROR, nullptr, 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Harness

// Moves bytes both ways until neither side has anything to say. Server output is handed to the
// peer in `chunk`-sized pieces within one round, so the chunking cannot change what either side
// sends (only how the peer's on_wire is called).
void pump(SimPeer& peer, TestServer& server,
          std::size_t chunk = std::numeric_limits<std::size_t>::max()) {
  for (int round = 0; round < 100000; ++round) {
    const std::vector<std::uint8_t> up = peer.take_outbound();
    server.on_wire(up);
    const std::vector<std::uint8_t> down = server.take_outbound();
    for (std::size_t off = 0; off < down.size(); off += chunk) {
      peer.on_wire(std::span(down).subspan(off, std::min(chunk, down.size() - off)));
    }
    if (up.empty() && down.empty()) return;
  }
  BOOST_FAIL("pump did not settle");
}

ExpectFn expect_pattern(SizeFn size, bool trailers = false) {
  return [size, trailers](std::uint64_t id) {
    ExpectedResponse e;
    e.headers = {{"x-emitlab-request", std::to_string(id)}};
    e.body = make_body(kSeed, id, size(id));
    if (trailers) e.trailers = {{"x-emitlab-trailer", std::to_string(id)}};
    return e;
  };
}

PeerConfig config(std::uint32_t requests, std::uint32_t batch, SizeFn size) {
  PeerConfig cfg;
  cfg.requests = requests;
  cfg.batch = batch;
  cfg.expect = expect_pattern(std::move(size));
  return cfg;
}

SizeFn fixed(std::size_t n) {
  return [n](std::uint64_t) { return n; };
}

const StreamResult& stream_of(const SimPeer& peer, std::uint64_t request_id) {
  for (const auto& [id, s] : peer.streams()) {
    if (s.request_id == request_id) return s;
  }
  BOOST_FAIL("no stream for request " << request_id);
  throw std::logic_error("unreachable");
}

struct Contexts {
  SslCtxPtr server = make_server_ctx();
  SslCtxPtr client = make_client_ctx();
};

// One connection: a peer and a server over the contexts, started and pumped to quiescence.
struct Run {
  Run(const Contexts& ctx, PeerConfig cfg, ServerOptions opt, bool go = true)
      : peer(ctx.client.get(), std::move(cfg)), server(ctx.server.get(), std::move(opt)) {
    peer.start();
    if (go) pump(peer, server);
  }
  SimPeer peer;
  TestServer server;
};

void check_all_verified(const SimPeer& peer, std::size_t requests) {
  BOOST_TEST(peer.done());
  BOOST_TEST(!peer.failed(), peer.failure());
  BOOST_TEST(peer.responses_verified() == requests);
  BOOST_TEST(peer.responses_failed() == 0u);
  BOOST_TEST(peer.streams().size() == requests);
  for (const auto& [id, s] : peer.streams()) {
    BOOST_TEST(s.verified, "stream " << id << ": " << s.mismatch);
  }
}

ServerOptions sized(SizeFn size) {
  ServerOptions opt;
  opt.body_size = std::move(size);
  return opt;
}

// ---------------------------------------------------------------------------------------------
// Tests

BOOST_FIXTURE_TEST_SUITE(sim_peer, Contexts)

BOOST_AUTO_TEST_CASE(single_request_each_body_size) {
  for (const std::size_t size : {0u, 1u, 100000u}) {
    BOOST_TEST_CONTEXT("body size " << size) {
      Run run(*this, config(1, 1, fixed(size)), sized(fixed(size)));
      check_all_verified(run.peer, 1);
      const StreamResult& s = stream_of(run.peer, 0);
      BOOST_TEST(s.status == 200);
      BOOST_TEST(s.body.size() == size);
      BOOST_TEST(s.end_stream);
      BOOST_TEST(run.server.error().empty(), run.server.error());
    }
  }
}

SizeFn mixed_sizes() {
  return [](std::uint64_t id) -> std::size_t {
    constexpr std::array<std::size_t, 4> kSizes{0, 1, 100000, 777};
    return kSizes[id % kSizes.size()];
  };
}

BOOST_AUTO_TEST_CASE(batches_are_lockstep) {
  Run run(*this, config(150, 100, mixed_sizes()), sized(mixed_sizes()));
  check_all_verified(run.peer, 150);
  BOOST_TEST(run.server.requests_received() == 150u);
  BOOST_TEST(run.server.max_open() == 100u);
  // Requests after the 100th are sent only once every stream of the first batch has closed.
  for (const auto& [request_id, completed_before] : run.server.arrivals()) {
    if (request_id >= 100) BOOST_TEST(completed_before == 100u, "request " << request_id);
  }
}

BOOST_AUTO_TEST_CASE(request_ids_start_at_first_request_id) {
  PeerConfig cfg = config(3, 2, fixed(10));
  cfg.first_request_id = 1000;
  Run run(*this, std::move(cfg), sized(fixed(10)));
  check_all_verified(run.peer, 3);
  BOOST_TEST(stream_of(run.peer, 1002).headers.at(0).value == "1002");
}

BOOST_AUTO_TEST_CASE(requests_wait_for_server_settings) {
  ServerOptions opt;
  opt.hold_output = true;
  Run run(*this, config(2, 2, fixed(100)), std::move(opt));
  BOOST_TEST(run.server.requests_received() == 0u);  // handshake done, no server SETTINGS yet
  BOOST_TEST(!run.peer.done());
  BOOST_TEST(run.peer.app_stream().empty());
  run.server.release();
  pump(run.peer, run.server);
  check_all_verified(run.peer, 2);
}

BOOST_AUTO_TEST_CASE(corrupted_body_byte_is_reported_with_offset) {
  ServerOptions opt = sized(fixed(1000));
  opt.corrupt_request = 3;
  opt.corrupt_offset = 777;
  Run run(*this, config(5, 5, fixed(1000)), std::move(opt));
  BOOST_TEST(run.peer.done());
  BOOST_TEST(!run.peer.failed(), run.peer.failure());
  BOOST_TEST(run.peer.responses_verified() == 4u);
  BOOST_TEST(run.peer.responses_failed() == 1u);
  const StreamResult& bad = stream_of(run.peer, 3);
  BOOST_TEST(!bad.verified);
  BOOST_TEST(bad.mismatch.find("offset 777") != std::string::npos, bad.mismatch);
  const std::uint8_t want = make_body(kSeed, 3, 1000)[777];
  BOOST_TEST(bad.body.at(777) == static_cast<std::uint8_t>(want ^ 0xff));
}

BOOST_AUTO_TEST_CASE(header_and_status_mismatches_are_reported) {
  using Spoil = std::function<void(ExpectedResponse&)>;
  const std::vector<std::pair<Spoil, std::string>> cases{
      {[](ExpectedResponse& e) { e.headers.at(0).value = "other"; }, "header 0: got"},
      {[](ExpectedResponse& e) {
         e.headers.push_back({"x-extra", "1"});
       },
       "missing 'x-extra: 1'"},
      {[](ExpectedResponse& e) { e.status = 201; }, "status: got 200, expected 201"},
  };
  for (const auto& [spoil, message] : cases) {
    BOOST_TEST_CONTEXT(message) {
      PeerConfig cfg = config(1, 1, fixed(10));
      cfg.expect = [spoil = spoil](std::uint64_t id) {
        ExpectedResponse e = expect_pattern(fixed(10))(id);
        spoil(e);
        return e;
      };
      Run run(*this, std::move(cfg), sized(fixed(10)));
      BOOST_TEST(run.peer.responses_failed() == 1u);
      const std::string& why = stream_of(run.peer, 0).mismatch;
      BOOST_TEST(why.find(message) != std::string::npos, why);
    }
  }
}

BOOST_AUTO_TEST_CASE(trailers_are_recorded_and_verified) {
  ServerOptions opt = sized(fixed(300));
  opt.trailers = true;
  PeerConfig cfg = config(2, 2, fixed(300));
  cfg.expect = expect_pattern(fixed(300), true);
  Run run(*this, std::move(cfg), std::move(opt));
  check_all_verified(run.peer, 2);
  const StreamResult& s = stream_of(run.peer, 1);
  BOOST_TEST(s.headers.size() == 1u);  // the trailer is not mixed into the headers
  BOOST_TEST(s.trailers.at(0).name == "x-emitlab-trailer");
}

BOOST_AUTO_TEST_CASE(missing_trailer_is_a_mismatch) {
  ServerOptions opt = sized(fixed(300));
  opt.trailers = true;
  Run run(*this, config(1, 1, fixed(300)), std::move(opt));  // expects no trailers
  BOOST_TEST(run.peer.responses_failed() == 1u);
  const std::string& why = stream_of(run.peer, 0).mismatch;
  BOOST_TEST(why.find("trailer count") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(early_goaway_fails_the_remaining_requests) {
  ServerOptions opt = sized(fixed(500));
  opt.respond_limit = 3;
  opt.ending = Ending::kGoaway;
  opt.end_after = 3;
  Run run(*this, config(20, 10, fixed(500)), std::move(opt));
  BOOST_TEST(run.peer.done());
  BOOST_TEST(run.peer.failed());
  BOOST_TEST(run.peer.goaway_received());
  BOOST_TEST(run.peer.failure().find("GOAWAY") != std::string::npos, run.peer.failure());
  BOOST_TEST(run.peer.responses_verified() == 3u);
  BOOST_TEST(run.peer.responses_failed() == 17u);
  BOOST_TEST(run.peer.streams().size() == 10u);  // the second batch was never sent
  BOOST_TEST(!stream_of(run.peer, 5).verified);
}

BOOST_AUTO_TEST_CASE(close_notify_at_the_end_is_last) {
  ServerOptions opt = sized(fixed(2000));
  opt.ending = Ending::kCloseNotify;
  opt.end_after = 3;
  Run run(*this, config(3, 3, fixed(2000)), std::move(opt));
  check_all_verified(run.peer, 3);
  BOOST_TEST(run.peer.close_notify_received());
  BOOST_TEST(run.peer.close_notify_is_last());
  BOOST_TEST((run.peer.phase() == PeerPhase::TlsDead), to_string(run.peer.phase()));
  run.peer.abort();  // too late: the phase only moves forward, and an ended peer cannot abort
  BOOST_TEST((run.peer.phase() == PeerPhase::TlsDead), to_string(run.peer.phase()));
  BOOST_TEST(!run.peer.aborted());
  // One more record after close_notify: it is still recorded, and close_notify is not last.
  const std::size_t records = run.peer.records().size();
  const std::array<std::uint8_t, 7> fake{0x17, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb};
  run.peer.on_wire(fake);
  BOOST_TEST(run.peer.records().size() == records + 1);
  BOOST_TEST(!run.peer.close_notify_is_last());
  BOOST_TEST(!run.peer.failed(), run.peer.failure());
}

BOOST_AUTO_TEST_CASE(partial_bytes_after_close_notify_make_it_not_last) {
  ServerOptions opt = sized(fixed(10));
  opt.ending = Ending::kCloseNotify;
  opt.end_after = 1;
  Run run(*this, config(1, 1, fixed(10)), std::move(opt));
  BOOST_TEST(run.peer.close_notify_is_last());
  const std::array<std::uint8_t, 3> partial{0x17, 0x03, 0x03};
  run.peer.on_wire(partial);
  BOOST_TEST(!run.peer.close_notify_is_last());
}

BOOST_AUTO_TEST_CASE(early_close_notify_fails_the_remaining_requests) {
  ServerOptions opt = sized(fixed(100));
  opt.respond_limit = 2;
  opt.ending = Ending::kCloseNotify;
  opt.end_after = 2;
  Run run(*this, config(5, 5, fixed(100)), std::move(opt));
  BOOST_TEST(run.peer.done());
  BOOST_TEST(run.peer.failed());
  BOOST_TEST(run.peer.failure().find("close_notify") != std::string::npos, run.peer.failure());
  BOOST_TEST(run.peer.responses_verified() == 2u);
  BOOST_TEST(run.peer.responses_failed() == 3u);
  BOOST_TEST(run.peer.close_notify_is_last());
}

BOOST_AUTO_TEST_CASE(no_close_notify_means_not_last) {
  Run run(*this, config(1, 1, fixed(10)), sized(fixed(10)));
  BOOST_TEST(!run.peer.close_notify_received());
  BOOST_TEST(!run.peer.close_notify_is_last());
}

BOOST_AUTO_TEST_CASE(records_cover_the_wire) {
  Run run(*this, config(20, 10, mixed_sizes()), sized(mixed_sizes()));
  check_all_verified(run.peer, 20);
  std::uint64_t expected_offset = 0;
  for (const RecordInfo& r : run.peer.records()) {
    BOOST_TEST(r.offset == expected_offset);
    expected_offset += 5u + r.length;
  }
  BOOST_TEST(expected_offset == run.peer.wire().size());
  BOOST_TEST(run.peer.records().front().content_type == 22);  // ServerHello: handshake
  BOOST_TEST(run.peer.records().back().content_type == 23);   // TLS 1.3 application_data
}

BOOST_AUTO_TEST_CASE(app_stream_begins_with_server_settings) {
  Run run(*this, config(1, 1, fixed(10)), sized(fixed(10)));
  const std::vector<std::uint8_t>& app = run.peer.app_stream();
  BOOST_REQUIRE(app.size() >= 9u);
  BOOST_TEST(app[3] == NGHTTP2_SETTINGS);
  BOOST_TEST(app[4] == 0);  // not an ACK
  BOOST_TEST((app[5] | app[6] | app[7] | app[8]) == 0);
  BOOST_REQUIRE(!run.peer.frames().empty());
  BOOST_TEST(run.peer.frames().front().type == NGHTTP2_SETTINGS);
  BOOST_TEST(run.peer.frames().front().flags == 0);
}

BOOST_AUTO_TEST_CASE(frames_are_recorded_in_order) {
  Run run(*this, config(1, 1, fixed(40000)), sized(fixed(40000)));
  std::size_t data_bytes = 0;
  bool saw_headers = false;
  for (const FrameInfo& f : run.peer.frames()) {
    if (f.type == NGHTTP2_HEADERS) saw_headers = true;
    if (f.type == NGHTTP2_DATA) {
      BOOST_TEST(saw_headers);  // HEADERS precede DATA on the stream
      data_bytes += f.length;
    }
  }
  BOOST_TEST(data_bytes == 40000u);
  BOOST_TEST(run.peer.frames().back().type == NGHTTP2_DATA);
  BOOST_TEST((run.peer.frames().back().flags & NGHTTP2_FLAG_END_STREAM) != 0);
}

// HPACK: ":status: 200" (static index 8), then a literal field without indexing.
std::vector<std::uint8_t> status_200_then(const std::string& name, const std::string& value) {
  std::vector<std::uint8_t> out{0x88, 0x00, static_cast<std::uint8_t>(name.size())};
  out.insert(out.end(), name.begin(), name.end());
  out.push_back(static_cast<std::uint8_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

// A peer that drops the connection while a response's header block is half received has a
// prefix of the headers: the stream counts as cancelled, not failed (it failed with "header
// count: got 1, expected 3" before, W2), while a wrong field in that prefix still fails it.
BOOST_AUTO_TEST_CASE(a_header_block_cut_by_the_peer_compares_as_a_prefix) {
  PeerConfig cfg = config(1, 1, fixed(10));
  cfg.expect = [](std::uint64_t id) {
    ExpectedResponse e = expect_pattern(fixed(10))(id);
    e.headers.push_back({"x-more", "1"});
    return e;
  };
  const std::vector<std::pair<std::string, StreamOutcome>> cases{{"0", StreamOutcome::Cancelled},
                                                                 {"9", StreamOutcome::Failed}};
  for (const auto& [request_field, outcome] : cases) {
    BOOST_TEST_CONTEXT("x-emitlab-request: " << request_field) {
      ServerOptions opt = sized(fixed(10));
      opt.cut_header_block = status_200_then("x-emitlab-request", request_field);
      Run run(*this, cfg, std::move(opt));
      const StreamResult& cut = stream_of(run.peer, 0);
      BOOST_TEST(cut.status == 200);
      BOOST_TEST(cut.headers.size() == 1u);  // the field before the cut did arrive
      BOOST_TEST(!cut.headers_complete);
      BOOST_TEST((run.peer.phase() == PeerPhase::Open), to_string(run.peer.phase()));
      run.peer.abort();
      BOOST_TEST((run.peer.phase() == PeerPhase::Aborted), to_string(run.peer.phase()));
      BOOST_TEST((stream_of(run.peer, 0).outcome == outcome), stream_of(run.peer, 0).mismatch);
      BOOST_TEST(run.peer.responses_failed() == (outcome == StreamOutcome::Failed ? 1u : 0u));
    }
  }
}

BOOST_AUTO_TEST_CASE(chunking_does_not_change_what_is_received) {
  std::optional<std::vector<std::uint8_t>> reference;
  for (const std::size_t chunk :
       {std::size_t{1}, std::size_t{7}, std::size_t{1000}, std::size_t{200000}}) {
    BOOST_TEST_CONTEXT("chunk " << chunk) {
      Run run(*this, config(3, 2, fixed(20000)), sized(fixed(20000)), false);
      pump(run.peer, run.server, chunk);
      check_all_verified(run.peer, 3);
      if (!reference) reference = run.peer.app_stream();
      BOOST_TEST(run.peer.app_stream() == *reference);
    }
  }
}

BOOST_AUTO_TEST_CASE(garbage_ciphertext_fails_cleanly) {
  Run run(*this, config(1, 1, fixed(10)), sized(fixed(10)));
  check_all_verified(run.peer, 1);
  const std::array<std::uint8_t, 25> forged{0x17, 0x03, 0x03, 0x00, 0x14};  // bad tag
  run.peer.on_wire(forged);
  BOOST_TEST(run.peer.failed());
  BOOST_TEST((run.peer.phase() == PeerPhase::TlsDead), to_string(run.peer.phase()));
  BOOST_TEST(run.peer.failure().find("TLS read failed") != std::string::npos, run.peer.failure());
  BOOST_TEST(run.peer.done());
  const std::size_t wire_before = run.peer.wire().size();
  run.peer.on_wire(forged);  // input after the failure is still recorded, not processed
  BOOST_TEST(run.peer.wire().size() == wire_before + forged.size());
}

BOOST_AUTO_TEST_CASE(garbage_before_handshake_fails_cleanly) {
  SimPeer peer(client.get(), config(1, 1, fixed(10)));
  BOOST_TEST((peer.phase() == PeerPhase::Handshake));
  peer.start();
  BOOST_TEST(!peer.take_outbound().empty());  // the ClientHello
  BOOST_TEST((peer.phase() == PeerPhase::Handshake), to_string(peer.phase()));
  const std::string junk = "HTTP/1.1 400 Bad Request\r\n\r\n";
  peer.on_wire(std::span(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()));
  BOOST_TEST(peer.failed());
  BOOST_TEST((peer.phase() == PeerPhase::TlsDead), to_string(peer.phase()));
  BOOST_TEST(peer.done());
  BOOST_TEST(peer.responses_failed() == 1u);
  BOOST_TEST(peer.failure().find("handshake") != std::string::npos, peer.failure());
}

BOOST_AUTO_TEST_CASE(http2_protocol_error_fails_cleanly) {
  ServerOptions opt = sized(fixed(10));
  opt.raw_after_settings = {0, 0, 1, NGHTTP2_DATA, 0, 0, 0, 0, 0, 'x'};  // DATA on stream 0
  Run run(*this, config(2, 2, fixed(10)), std::move(opt));
  BOOST_TEST(run.peer.done());
  BOOST_TEST(run.peer.failed());
  BOOST_TEST(run.peer.responses_verified() == 0u);
  BOOST_TEST(run.peer.responses_failed() == 2u);
  BOOST_TEST(run.peer.failure().find("PROTOCOL_ERROR") != std::string::npos, run.peer.failure());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace emitlab::sim
