#include "sim/world.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <utility>

#include "core/response.h"
#include "core/server_connection.h"
#include "sim/body_pattern.h"
#include "sim/deterministic_tls.h"

namespace emitlab::sim {
namespace {

constexpr std::uint64_t kMaxSteps = 50'000'000;

std::optional<std::uint64_t> request_id_from_path(const HeaderTable& request) {
  for (const auto& h : request) {
    if (h.name != ":path" || h.value.rfind("/r/", 0) != 0) continue;
    std::uint64_t id = 0;
    const char* begin = h.value.data() + 3;
    const char* end = h.value.data() + h.value.size();
    auto [ptr, ec] = std::from_chars(begin, end, id);
    if (ec == std::errc() && ptr == end && ptr != begin) return id;
  }
  return std::nullopt;
}

class Handler final : public RequestHandler {
 public:
  Handler(std::uint64_t seed, std::size_t body_size) : seed_(seed), body_size_(body_size) {}
  void on_request(ServerConnection& conn, ServerStream& stream) override {
    ResponseObject::Spec spec;
    const auto id = request_id_from_path(stream.request);
    if (!id) {
      spec.status = 404;
      conn.submit_response(stream.id, ResponseRef(ResponseObject::create(system_allocator(),
                                                                         spec, nullptr)));
      return;
    }
    ExpectedResponse expected = expected_response(seed_, *id, 0);
    spec.headers = std::move(expected.headers);
    spec.body_size = body_size_;
    const std::uint64_t seed = seed_;
    auto fill = [seed, id](std::span<std::uint8_t> out) { fill_body(seed, *id, 0, out); };
    conn.submit_response(stream.id,
                         ResponseRef(ResponseObject::create(system_allocator(), spec, fill)));
  }

 private:
  std::uint64_t seed_;
  std::size_t body_size_;
};

// The wire: a submitted span reaches the peer when it completes.
class Wire final : public Transport {
 public:
  Wire(Completions mode, SimPeer& peer) : mode_(mode), peer_(peer) {}
  void bind(ServerConnection& conn) { conn_ = &conn; }
  void submit(std::span<const std::uint8_t> ciphertext) override {
    pending_ = ciphertext;
    if (mode_ == Completions::Sync) complete();
  }
  bool complete() {
    if (pending_.empty()) return false;
    const auto span = std::exchange(pending_, {});
    peer_.on_wire(span);
    conn_->on_write_complete(span.size());
    return true;
  }

 private:
  Completions mode_;
  SimPeer& peer_;
  ServerConnection* conn_ = nullptr;
  std::span<const std::uint8_t> pending_;
};

std::string describe_failure(const ServerConnection& conn, const SimPeer& peer,
                             bool stalled) {
  if (conn.failed()) return "server connection failed: " + conn.error();
  if (peer.failed()) return "peer: " + peer.failure();
  if (stalled) return "stalled: no progress before every response was delivered";
  return {};
}

}  // namespace

ExpectedResponse expected_response(std::uint64_t seed, std::uint64_t request_id,
                                   std::size_t body_size) {
  ExpectedResponse r;
  r.status = 200;
  r.headers = {{"content-type", "application/octet-stream"},
               {"x-emitlab-request", std::to_string(request_id)}};
  r.body = make_body(seed, request_id, body_size);
  return r;
}

RunResult run_world(const RunConfig& config) {
  DeterministicTls tls(config.seed);  // outlives every SSL below
  PeerConfig peer_config;
  peer_config.requests = config.streams;
  peer_config.batch = std::max<std::uint32_t>(1, std::min(config.streams, config.max_concurrency));
  peer_config.expect = [&config](std::uint64_t id) {
    return expected_response(config.seed, id, config.body_size);
  };
  SimPeer peer(tls.client_ctx(), peer_config);
  Wire wire(config.completions, peer);
  Handler handler(config.seed, config.body_size);
  ConnectionConfig conn_config;
  conn_config.strategy = config.strategy;
  conn_config.rings.cipher_out_records = config.cipher_ring_records;
  conn_config.rings.plaintext_ring = config.plaintext_ring;
  ServerConnection conn(tls.server_ctx(), conn_config, wire, handler, system_allocator());
  wire.bind(conn);

  RunResult result;
  result.config = config;
  peer.start();
  bool shutdown_sent = false;
  bool stalled = false;
  for (; result.steps < kMaxSteps; ++result.steps) {
    bool progress = false;
    if (auto out = peer.take_outbound(); !out.empty()) {
      conn.on_ciphertext(out);
      progress = true;
    }
    progress = wire.complete() || progress;
    if (peer.done() && !shutdown_sent && !conn.failed()) {
      conn.shutdown();
      shutdown_sent = true;
      progress = true;
    }
    if (conn.failed()) break;
    if (!progress) {
      stalled = !peer.done();
      break;
    }
  }
  result.connection_failed = conn.failed() || peer.failed() || stalled;
  result.failure = describe_failure(conn, peer, stalled);
  result.responses_verified = peer.responses_verified();
  result.responses_failed = config.streams - result.responses_verified;
  result.passes = conn.passes();
  result.totals = conn.totals();
  result.wire = peer.wire();
  result.app = peer.app_stream();
  result.records = peer.records();
  result.frames = peer.frames();
  for (const auto& [id, s] : peer.streams()) result.streams.push_back(s);
  result.close_notify_is_last = peer.close_notify_is_last();
  return result;
}

std::string sha256_hex(const std::vector<std::uint8_t>& bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md.data(), &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

}  // namespace emitlab::sim
