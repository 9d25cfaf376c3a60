// The safety rules the emitter checks as it runs: silent on every real strategy, and loud on
// emitters broken on purpose here (never shipped in core).
#define BOOST_TEST_MODULE invariants
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "core/drain_emitter.h"
#include "sim/body_pattern.h"
#include "support/pump.h"

using namespace emitlab;

namespace {

constexpr std::uint64_t kSeed = 23;

using emitlab::testing::request_id;

sim::PeerConfig peer(std::uint32_t requests, std::size_t body) {
  sim::PeerConfig p;
  p.requests = requests;
  p.batch = requests;
  p.expect = testing::expect_bodies(kSeed, testing::fixed_size(body));
  return p;
}

testing::Pump::OnRequest respond(std::size_t body) {
  return testing::serve_bodies(kSeed, testing::fixed_size(body));
}

// Writes each frame straight to TLS and ships it at once, with no gate: the second frame is
// encrypted while the first one's span is still in flight.
class GatelessDirect final : public Emitter {
 public:
  void run_pass(EmitContext& ctx) override {
    const std::uint8_t* data = nullptr;
    for (;;) {
      const ssize_t n = nghttp2_session_mem_send(ctx.session.raw(), &data);
      if (n <= 0) break;
      if (!ctx.tls.write_direct({data, static_cast<std::size_t>(n)})) break;
      ctx.tls.drain();
    }
  }
};

// Hands TLS one huge direct write: over a one-record cipher ring its tail cannot fit the
// plaintext ring.
class OversizedPass final : public Emitter {
 public:
  void run_pass(EmitContext& ctx) override {
    std::vector<std::uint8_t> all;
    const std::uint8_t* data = nullptr;
    for (ssize_t n; (n = nghttp2_session_mem_send(ctx.session.raw(), &data)) > 0;) {
      all.insert(all.end(), data, data + n);
    }
    if (!all.empty()) ctx.tls.write_direct(all);
    ctx.tls.drain();
  }
};

template <class E>
EmitterFactory factory() {
  return [](const StrategySpec&, EmitterHeap&) -> std::unique_ptr<Emitter> {
    return std::make_unique<E>();
  };
}

std::vector<Rule> rules(const ServerConnection& conn) {
  std::vector<Rule> out;
  for (const auto& v : conn.violations()) out.push_back(v.rule);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(real_strategies_break_no_rule) {
  for (const char* s : {"drain", "gather", "gather+A1+A2+A3@cap=64K", "hybrid+A3"}) {
    for (std::size_t ring : {std::size_t{0}, std::size_t{1}}) {
      ConnectionConfig config;
      config.strategy = *parse_strategy(s).spec;
      config.rings.cipher_out_records = ring;
      testing::Pump pump(config, peer(30, 9000), respond(9000));
      pump.run();
      BOOST_TEST_CONTEXT(s << " ring " << ring) {
        BOOST_TEST(pump.conn().violations().empty());
        BOOST_TEST(pump.peer().responses_verified() == 30U);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(encrypting_while_a_write_is_in_flight_is_caught) {
  ConnectionConfig config;
  config.emitter_factory = factory<GatelessDirect>();
  testing::Pump pump(config, peer(10, 40000), respond(40000));
  pump.run();
  const auto broken = rules(pump.conn());
  BOOST_REQUIRE(!broken.empty());
  BOOST_TEST((broken.front() == Rule::NoEncryptWhileInFlight),
             to_string(broken.front()) << ": " << pump.conn().violations().front().detail);
  BOOST_TEST(pump.conn().failed());
  BOOST_TEST(pump.peer().responses_verified() < 10U);
}

BOOST_AUTO_TEST_CASE(a_parked_tail_larger_than_the_plaintext_ring_is_caught) {
  ConnectionConfig config;
  config.rings.cipher_out_records = 1;
  config.emitter_factory = factory<OversizedPass>();
  testing::Pump pump(config, peer(5, 20000), respond(20000));
  pump.run();
  const auto broken = rules(pump.conn());
  BOOST_REQUIRE(!broken.empty());
  BOOST_TEST((broken.front() == Rule::ParkFits));
  BOOST_TEST(pump.conn().violations().front().pass > 0U);
}

BOOST_AUTO_TEST_CASE(a_completion_that_is_not_the_span_in_flight_is_caught) {
  sim::SimLink wire;
  sim::DeterministicTls tls(1);
  struct NoHandler final : RequestHandler {
    void on_request(ServerConnection&, ServerStream&) override {}
  } handler;
  ServerConnection conn(tls.server_ctx(), ConnectionConfig{}, wire, handler, system_allocator());
  sim::SimPeer client(tls.client_ctx(), peer(1, 1));
  client.start();
  conn.on_ciphertext(client.take_outbound());
  const std::size_t span = wire.inflight().size();
  BOOST_REQUIRE(span > 0U);  // the server flight is in flight
  conn.on_write_complete(span + 1);
  BOOST_REQUIRE(!conn.violations().empty());
  BOOST_TEST((conn.violations().front().rule == Rule::CompletionSpan));
  BOOST_TEST(conn.failed());
}
