#include "fuzz/live_server.h"

#include <openssl/ssl.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "core/response.h"
#include "core/strategy.h"

namespace emitlab::fuzz {
namespace {

// Every base, every Track A option and the caps the README names (strategy_catalog()).
constexpr std::array<std::string_view, LiveParams::kStrategyCount> kStrategies = {
    "drain",     "gather",          "hybrid",          "gather+A1",
    "gather+A2", "gather+A3",       "gather@cap=64K",  "gather+A1+A2+A3",
    "hybrid+A3", "hybrid+A1+A2+A3", "gather@cap=256K", "hybrid@threshold=1024"};
constexpr std::size_t kRingBio = 1 << 20;  // the client's BIO pair: more than any ring

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "emitlab fuzz finding: %s\n", what.c_str());
  std::abort();
}

StrategySpec spec_of(std::string_view text) {
  const SpecParse p = parse_strategy(text);
  if (!p.spec) finding("the harness's strategy list has a bad entry: " + std::string(text));
  return *p.spec;
}

}  // namespace

sim::DeterministicTls& shared_tls();

LiveParams LiveParams::draw(std::span<const std::uint8_t>& input) {
  std::array<std::uint8_t, kBytes> b{};
  for (std::size_t i = 0; i < kBytes && !input.empty(); ++i) {
    b[i] = input.front();
    input = input.subspan(1);
  }
  LiveParams p;
  p.strategy = std::string(kStrategies[b[0] % kStrategies.size()]);
  p.sync_completions = (b[1] & 1) != 0;
  p.cipher_out_records = b[2] % 17;
  p.plaintext_ring = std::size_t{4096} << (b[3] % 5);  // 4 KiB .. 64 KiB
  p.body_size = (std::size_t{b[4]} << 8 | b[5]) % 70001;
  return p;
}

sim::DeterministicTls& shared_tls() {
  static sim::DeterministicTls tls(1);
  return tls;
}

LiveServer::LiveServer(const LiveParams& params)
    : params_(params), tls_(shared_tls()), link_(sim::SimLink::Options{.listener = this}) {
  tls_.reseed(1);  // the same handshake bytes for every input
  ConnectionConfig c;
  c.strategy = spec_of(params_.strategy);
  c.rings.cipher_out_records = params_.cipher_out_records;
  c.rings.plaintext_ring = params_.plaintext_ring;
  server_ =
      std::make_unique<ServerConnection>(tls_.server_ctx(), c, link_, *this, system_allocator());
  client_.reset(SSL_new(tls_.client_ctx()));
  BIO* internal = nullptr;
  BIO* network = nullptr;
  if (!client_ || BIO_new_bio_pair(&internal, kRingBio, &network, kRingBio) != 1) {
    finding("client TLS setup failed");
  }
  client_net_.reset(network);
  SSL_set_bio(client_.get(), internal, internal);
  SSL_set_connect_state(client_.get());
  SSL_set_tlsext_host_name(client_.get(), "emitlab.test");
}

// The server goes first: it holds SSLs of tls_'s contexts.
LiveServer::~LiveServer() {
  server_.reset();
  client_.reset();
  client_net_.reset();
}

void LiveServer::on_submit(std::span<const std::uint8_t>) {
  if (link_.overlapped()) finding("a second write submitted while one is in flight");
  if (params_.sync_completions && !in_submit_) {
    in_submit_ = true;
    complete_write();
    in_submit_ = false;
  }
}

void LiveServer::on_request(ServerConnection& connection, ServerStream& stream) {
  ResponseObject::Spec spec;
  spec.body_size = params_.body_size;
  spec.headers.push_back({"content-type", "application/octet-stream"});
  const std::int32_t id = stream.id;
  auto* obj = ResponseObject::create(system_allocator(), std::move(spec),
                                     [id](std::span<std::uint8_t> out) {
                                       for (std::size_t i = 0; i < out.size(); ++i) {
                                         out[i] = static_cast<std::uint8_t>(i * 31 + id);
                                       }
                                     });
  if (connection.submit_response(id, ResponseRef(obj))) {
    ++responses_;
  } else if (!connection.failed()) {
    refused_ = true;
  }
}

bool LiveServer::move_client_output() {
  bool moved = false;
  std::array<std::uint8_t, 16384> buf{};
  while (BIO_ctrl_pending(client_net_.get()) > 0) {
    const int n = BIO_read(client_net_.get(), buf.data(), static_cast<int>(buf.size()));
    if (n <= 0) break;
    const std::span<const std::uint8_t> bytes(buf.data(), static_cast<std::size_t>(n));
    if (recording_) client_records_.insert(client_records_.end(), bytes.begin(), bytes.end());
    server_->on_ciphertext(bytes);
    moved = true;
  }
  return moved;
}

bool LiveServer::complete_write() {
  if (link_.inflight().empty()) return false;
  const auto bytes = link_.take();
  if (BIO_write(client_net_.get(), bytes.data(), static_cast<int>(bytes.size())) !=
      static_cast<int>(bytes.size())) {
    finding("client BIO full");
  }
  server_->on_write_complete(bytes.size());
  return true;
}

void LiveServer::client_read() {
  std::array<std::uint8_t, 16384> buf{};
  for (;;) {
    const int n = SSL_read(client_.get(), buf.data(), static_cast<int>(buf.size()));
    if (n <= 0) break;
  }
}

void LiveServer::settle() {
  // Bounded: every round either moves bytes or stops, and the server's output is finite for
  // finite input (a bound keeps a harness bug from hanging the fuzzer instead).
  for (int round = 0; round < 100000; ++round) {
    bool moved = complete_write();
    client_read();
    moved = move_client_output() || moved;
    if (!moved) return;
  }
  finding("the connection never settled");
}

bool LiveServer::handshake() {
  for (int round = 0; round < 100 && SSL_is_init_finished(client_.get()) == 0; ++round) {
    SSL_do_handshake(client_.get());
    settle();
  }
  settle();
  return SSL_is_init_finished(client_.get()) == 1 && !server_->failed();
}

void LiveServer::send_plaintext(std::span<const std::uint8_t> bytes) {
  // In pieces, so the server sees several records and reads between them.
  while (!bytes.empty()) {
    const std::size_t n = std::min<std::size_t>(bytes.size(), 4096);
    if (SSL_write(client_.get(), bytes.data(), static_cast<int>(n)) <= 0) return;
    bytes = bytes.subspan(n);
    settle();
  }
}

void LiveServer::send_records(std::span<const std::uint8_t> bytes) {
  server_->on_ciphertext(bytes);
  settle();
}

void LiveServer::check() const {
  if (!server_->violations().empty()) {
    const Violation& v = server_->violations().front();
    finding("core invariant broken: " + std::string(to_string(v.rule)) + ": " + v.detail);
  }
  if (refused_) finding("a response was refused by a live connection");
}

}  // namespace emitlab::fuzz
