// The discrete-event loop: virtual time, instants, and ties decided through the choices.
#define BOOST_TEST_MODULE scheduler
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <vector>

#include "sim/scheduler.h"

namespace sim = emitlab::sim;
using sim::Event;
using sim::EventKind;

namespace {

std::vector<std::uint32_t> order(std::uint64_t seed) {
  sim::SeededChoices source(seed);
  sim::Chooser chooser(source);
  sim::Scheduler s(chooser);
  for (std::uint32_t c = 0; c < 8; ++c) s.at(100, {EventKind::PeerRead, c, 0});
  std::vector<std::uint32_t> out;
  while (auto e = s.next()) out.push_back(e->connection);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(events_run_in_time_order_and_advance_the_clock) {
  sim::SeededChoices source(1);
  sim::Chooser chooser(source);
  sim::Scheduler s(chooser);
  s.at(300, {EventKind::PeerRead, 3, 0});
  s.at(100, {EventKind::PeerRead, 1, 0});
  s.at(200, {EventKind::PeerRead, 2, 0});
  BOOST_TEST(s.pending() == 3U);
  for (std::uint32_t want : {1U, 2U, 3U}) {
    const auto e = s.next();
    BOOST_REQUIRE(e.has_value());
    BOOST_TEST(e->connection == want);
    BOOST_TEST(s.now() == want * 100);
  }
  BOOST_TEST(!s.next().has_value());
  BOOST_TEST(s.empty());
  BOOST_TEST(s.events_run() == 3U);
  BOOST_TEST(chooser.record().count == 0U);  // no tie, no decision
}

BOOST_AUTO_TEST_CASE(the_past_is_now) {
  sim::SeededChoices source(1);
  sim::Chooser chooser(source);
  sim::Scheduler s(chooser);
  s.at(500, {EventKind::PeerRead, 0, 0});
  s.next();
  s.at(10, {EventKind::PeerRead, 1, 0});
  s.after(0, {EventKind::PeerRead, 2, 0});
  s.next();
  BOOST_TEST(s.now() == 500U);
}

BOOST_AUTO_TEST_CASE(ties_are_decisions_and_every_event_runs_once) {
  const auto a = order(1);
  BOOST_TEST(a.size() == 8U);
  std::vector<std::uint32_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::uint32_t i = 0; i < 8; ++i) BOOST_TEST(sorted[i] == i);
  BOOST_TEST((a == order(1)));
  bool some_other = false;
  for (std::uint64_t seed = 2; seed < 10; ++seed) some_other = some_other || order(seed) != a;
  BOOST_TEST(some_other);
}

BOOST_AUTO_TEST_CASE(events_scheduled_for_now_join_the_instant) {
  sim::ListChoices replay({{sim::Decision::ReadyEvent, 2, 1}, {sim::Decision::ReadyEvent, 2, 0}});
  sim::Chooser chooser(replay);
  sim::Scheduler s(chooser);
  s.at(50, {EventKind::PeerRead, 0, 0});
  s.at(50, {EventKind::PeerRead, 1, 0});
  BOOST_TEST(s.next()->connection == 1U);  // the recorded answer picks the second
  s.after(0, {EventKind::PeerRead, 2, 0});
  const auto e = s.next();  // a tie again: {0, 2}, answer 0
  BOOST_TEST(e->connection == 0U);
  BOOST_TEST(s.next()->connection == 2U);
  BOOST_TEST(s.now() == 50U);
  BOOST_TEST(!chooser.diverged());
}
