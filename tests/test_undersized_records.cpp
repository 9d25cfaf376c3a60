// PassRecord::undersized_records: records under 16384 plaintext bytes written while more
// plaintext was queued. A lone small response has none; drain's 16649-byte buffers split as
// 16384 + 265 make one per buffer while the body goes on.
#define BOOST_TEST_MODULE undersized_records
#include <boost/test/unit_test.hpp>

#include <cstdint>

#include "core/strategy.h"
#include "sim/body_pattern.h"
#include "support/pump.h"

using emitlab::ConnectionConfig;
using emitlab::PassRecord;
using emitlab::ResponseObject;
using emitlab::ResponseRef;
using emitlab::ServerConnection;
using emitlab::ServerStream;
namespace sim = emitlab::sim;

namespace {

constexpr std::uint64_t kSeed = 23;

struct Run {
  PassRecord totals;
  std::uint32_t short_records_seen;  // by the peer: records under a full record's length
};

Run run(const char* strategy, std::uint32_t requests, std::size_t body) {
  ConnectionConfig config;
  config.strategy = *emitlab::parse_strategy(strategy).spec;
  sim::PeerConfig peer;
  peer.requests = requests;
  peer.batch = requests;
  peer.expect = emitlab::testing::expect_bodies(kSeed, emitlab::testing::fixed_size(body));
  emitlab::testing::Pump pump(
      config, peer, emitlab::testing::serve_bodies(kSeed, emitlab::testing::fixed_size(body)));
  pump.run();
  BOOST_TEST(pump.peer().responses_verified() == requests);
  // A full TLS 1.3 record: 16384 plaintext + 1 content type + 16 tag bytes after the header.
  constexpr std::uint16_t kFullRecord = emitlab::kMaxRecordPlaintext + 17;
  std::uint32_t short_seen = 0;
  for (const auto& r : pump.peer().records()) short_seen += r.length < kFullRecord ? 1 : 0;
  return {pump.conn().totals(), short_seen};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_lone_small_response_has_no_undersized_record) {
  for (const char* s : {"drain", "gather", "hybrid"}) {
    BOOST_TEST_CONTEXT(s) {
      const PassRecord t = run(s, 1, 100).totals;
      BOOST_TEST(t.tls_records > 0U);
      BOOST_TEST(t.undersized_records == 0U);
    }
  }
}

BOOST_AUTO_TEST_CASE(long_bodies_make_undersized_records_the_peer_sees_as_short) {
  for (const char* s : {"drain", "gather", "gather+A1+A2+A3", "hybrid"}) {
    BOOST_TEST_CONTEXT(s) {
      const Run r = run(s, 4, 4 * emitlab::kMaxRecordPlaintext);
      BOOST_TEST(r.totals.undersized_records > 0U);
      // Every undersized record reaches the peer as a short one (so does the last record of
      // each quiet moment, which is not undersized).
      BOOST_TEST(r.totals.undersized_records < r.short_records_seen);
    }
  }
}
