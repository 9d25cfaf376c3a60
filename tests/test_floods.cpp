// A peer that floods: PINGs or SETTINGS whose ACKs pile up because it does not read, more
// resets than a connection may take, runs of empty DATA frames. The server must end such a
// connection with GOAWAY ENHANCE_YOUR_CALM and close (core's FloodLimits), the run must name the
// flood, and the peer's verdict must tell "the server defended itself" from "the server stalled"
// or "the server failed". Below each limit the same behaviour is served in full.
#define BOOST_TEST_MODULE floods
#include <boost/test/unit_test.hpp>

#include <string>

#include "core/h2_session.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace sim = emitlab::sim;
using emitlab::FloodLimits;
using sim::PeerVerdict;
using sim::Scenario;

namespace {

// The issue's case: the peer reads one byte at a time, so the server's ACKs cannot leave.
Scenario slow_reader(const char* strategy) {
  auto parsed =
      sim::parse_scenario(R"({"workload":{"body":65536,"requests":10},"link":{"read_chunk":1}})");
  BOOST_REQUIRE(parsed.scenario);
  Scenario s = *parsed.scenario;
  s.strategy = *emitlab::parse_strategy(strategy).spec;
  return s;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::size_t goaways_received(const sim::ConnectionResult& c) {
  std::size_t n = 0;
  for (const auto& f : c.frames) n += f.type == NGHTTP2_GOAWAY ? 1 : 0;
  return n;
}

// Defended: one GOAWAY reached the peer, the server closed after it (close_notify last), the
// failure names the flood, and no core rule broke on the way.
void check_defended(const sim::RunResult& r, const std::string& flood) {
  BOOST_REQUIRE_EQUAL(r.connections.size(), 1U);
  const auto& c = r.connections[0];
  BOOST_TEST(sim::to_string(c.verdict) == "defended");
  BOOST_TEST(contains(r.failure, "server defended itself"), r.failure);
  BOOST_TEST(contains(r.failure, "flooded (" + flood + ")"), r.failure);
  BOOST_TEST(contains(r.failure, "ENHANCE_YOUR_CALM"), r.failure);
  BOOST_TEST(goaways_received(c) == 1U);
  BOOST_TEST(c.close_notify_is_last);
  BOOST_TEST(c.violations.empty());
  BOOST_TEST(c.open_streams_at_close == 0U);
}

void check_served(const sim::RunResult& r) {
  BOOST_TEST(r.failure == "");
  BOOST_TEST(r.ok());
  for (const auto& c : r.connections) BOOST_TEST(sim::to_string(c.verdict) == "completed");
  BOOST_TEST(r.responses_verified + r.responses_cancelled == r.scenario.workload.requests);
}

}  // namespace

BOOST_AUTO_TEST_CASE(ping_acks_past_the_outbound_limit_end_the_connection_for_every_base) {
  for (const char* strategy : {"drain", "gather", "hybrid", "gather+A1+A2+A3"}) {
    BOOST_TEST_CONTEXT(strategy) {
      Scenario s = slow_reader(strategy);
      s.peer.ping_permille = 50;
      const auto r = sim::run_world(s);
      check_defended(r, "PING");
      // The server answered PINGs until the limit: fewer than all, more than none.
      BOOST_TEST(r.connections[0].pings_acked > 0U);
      BOOST_TEST(r.connections[0].pings_acked < r.connections[0].pings_sent);
    }
  }
}

BOOST_AUTO_TEST_CASE(settings_acks_past_the_outbound_limit_end_the_connection) {
  Scenario s = slow_reader("gather");
  s.peer.settings_permille = 50;
  check_defended(sim::run_world(s), "SETTINGS");
}

BOOST_AUTO_TEST_CASE(pings_and_settings_a_reading_peer_sends_are_all_answered) {
  Scenario s = slow_reader("hybrid");
  s.link.read_chunk = {1024, 65536};
  s.peer.ping_permille = 50;
  s.peer.settings_permille = 50;
  const auto r = sim::run_world(s);
  check_served(r);
  BOOST_TEST(r.connections[0].pings_sent > 0U);
  BOOST_TEST(r.connections[0].pings_acked == r.connections[0].pings_sent);
}

BOOST_AUTO_TEST_CASE(more_resets_than_a_connection_may_take_end_it) {
  // Every read resets a stream in progress: the limit is crossed long before the last request.
  auto parsed = sim::parse_scenario(
      R"({"workload":{"body":16384,"requests":1100,"concurrency":100},
          "link":{"read_chunk":1024},"peer":{"reset_permille":1000}})");
  BOOST_REQUIRE(parsed.scenario);
  const auto r = sim::run_world(*parsed.scenario);
  check_defended(r, "RST_STREAM");
  BOOST_TEST(contains(r.failure, std::to_string(FloodLimits::kMaxPeerResets + 1)), r.failure);
}

BOOST_AUTO_TEST_CASE(resets_below_the_limit_are_served) {
  auto parsed = sim::parse_scenario(
      R"({"workload":{"body":16384,"requests":900,"concurrency":100},
          "link":{"read_chunk":1024},"peer":{"reset_permille":1000}})");
  BOOST_REQUIRE(parsed.scenario);
  const auto r = sim::run_world(*parsed.scenario);
  check_served(r);
  BOOST_TEST(r.responses_cancelled > 0U);
}

BOOST_AUTO_TEST_CASE(a_run_of_empty_data_frames_past_the_limit_ends_the_connection) {
  for (const char* strategy : {"drain", "gather"}) {
    BOOST_TEST_CONTEXT(strategy) {
      Scenario s = slow_reader(strategy);
      s.link.read_chunk = {1024, 65536};
      s.peer.empty_data_frames = FloodLimits::kMaxEmptyDataFrames + 1;
      check_defended(sim::run_world(s), "empty DATA");
    }
  }
}

BOOST_AUTO_TEST_CASE(empty_data_frames_up_to_the_limit_are_served) {
  Scenario s = slow_reader("gather");
  s.link.read_chunk = {1024, 65536};
  // The limit counts frames without END_STREAM in a row over all streams; the request's last
  // (empty) frame ends the run. One stream at a time, so runs do not interleave.
  s.workload.concurrency = 1;
  s.peer.empty_data_frames = FloodLimits::kMaxEmptyDataFrames;
  check_served(sim::run_world(s));
}

BOOST_AUTO_TEST_CASE(a_world_that_stops_with_work_left_is_a_stall_not_a_defence) {
  Scenario s = slow_reader("drain");
  sim::RunOptions o;
  o.max_events = 2000;
  const auto r = sim::run_world(s, o);
  BOOST_REQUIRE_EQUAL(r.connections.size(), 1U);
  BOOST_TEST(sim::to_string(r.connections[0].verdict) == "stalled");
  BOOST_TEST(!contains(r.connections[0].failure, "defended"), r.connections[0].failure);
}

BOOST_AUTO_TEST_CASE(flood_keys_are_read_strictly) {
  BOOST_TEST(!sim::parse_scenario(R"({"peer":{"settings_permille":1001}})").scenario);
  BOOST_TEST(!sim::parse_scenario(R"({"peer":{"empty_data_frames":-1}})").scenario);
  BOOST_TEST(!sim::parse_scenario(R"({"peer":{"empty_data_frames":100001}})").scenario);
  const auto ok = sim::parse_scenario(R"({"peer":{"settings_permille":7,"empty_data_frames":3}})");
  BOOST_REQUIRE(ok.scenario);
  BOOST_TEST(ok.scenario->peer.settings_permille == 7U);
  BOOST_TEST(ok.scenario->peer.empty_data_frames == 3U);
  BOOST_TEST(!ok.scenario->input_independent());
  // The canonical form carries both, so a replay token reproduces the flood.
  const auto again = sim::parse_scenario(sim::canonical_json(*ok.scenario));
  BOOST_REQUIRE(again.scenario);
  BOOST_TEST((*again.scenario == *ok.scenario));
}
