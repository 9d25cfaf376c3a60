// The choice interface: the seeded generator's stream, recording, replay and divergence.
#define BOOST_TEST_MODULE choice
#include <boost/test/unit_test.hpp>

#include <vector>

#include "sim/choice.h"
#include "sim/prng.h"

namespace sim = emitlab::sim;
using sim::Choice;
using sim::Decision;

namespace {

std::vector<Choice> draw(sim::ChoiceSource& source, int n) {
  sim::Chooser chooser(source);
  for (int i = 0; i < n; ++i) {
    chooser.pick(Decision::ReadyEvent, 7);
    chooser.chance(Decision::Ping, 300);
    chooser.between(Decision::ReadChunk, {100, 200});
  }
  return chooser.record().list;
}

}  // namespace

BOOST_AUTO_TEST_CASE(xoshiro_matches_an_independent_implementation) {
  // Values from a Python transcription of splitmix64 seeding and xoshiro256**: the stream must
  // not change with the compiler, the build type or the library versions.
  sim::Xoshiro256 one(1);
  BOOST_TEST(one.next() == 0xb3f2af6d0fc710c5ULL);
  BOOST_TEST(one.next() == 0x853b559647364ceaULL);
  BOOST_TEST(one.next() == 0x92f89756082a4514ULL);
  sim::Xoshiro256 zero(0);
  BOOST_TEST(zero.next() == 0x99ec5f36cb75f2b4ULL);
  BOOST_TEST(zero.next() == 0xbf6e1f784956452aULL);
}

BOOST_AUTO_TEST_CASE(below_stays_in_range_and_covers_it) {
  sim::Xoshiro256 rng(9);
  std::vector<int> seen(5, 0);
  for (int i = 0; i < 1000; ++i) {
    const auto v = rng.below(5);
    BOOST_REQUIRE(v < 5U);
    ++seen[v];
  }
  for (int count : seen) BOOST_TEST(count > 100);
}

BOOST_AUTO_TEST_CASE(same_seed_same_choices_other_seed_other_choices) {
  sim::SeededChoices a(5), b(5), c(6);
  const auto ra = draw(a, 50);
  BOOST_TEST((ra == draw(b, 50)));
  BOOST_TEST((ra != draw(c, 50)));
}

BOOST_AUTO_TEST_CASE(certain_and_single_alternatives_are_not_decisions) {
  sim::SeededChoices source(1);
  sim::Chooser chooser(source);
  BOOST_TEST(chooser.pick(Decision::ReadyEvent, 1) == 0U);
  BOOST_TEST(chooser.pick(Decision::ReadyEvent, 0) == 0U);
  BOOST_TEST(!chooser.chance(Decision::Ping, 0));
  BOOST_TEST(chooser.chance(Decision::Ping, 1000));
  BOOST_TEST(chooser.between(Decision::ReadChunk, {42, 42}) == 42U);
  BOOST_TEST(chooser.record().count == 0U);
}

BOOST_AUTO_TEST_CASE(between_covers_the_inclusive_range) {
  sim::SeededChoices source(3);
  sim::Chooser chooser(source);
  bool low = false, high = false;
  for (int i = 0; i < 2000; ++i) {
    const auto v = chooser.between(Decision::ReadChunk, {10, 13});
    BOOST_REQUIRE(v >= 10U);
    BOOST_REQUIRE(v <= 13U);
    low = low || v == 10;
    high = high || v == 13;
  }
  BOOST_TEST(low);
  BOOST_TEST(high);
  BOOST_TEST(chooser.record().list.front().n == 4U);
}

BOOST_AUTO_TEST_CASE(chance_follows_its_odds) {
  sim::SeededChoices source(4);
  sim::Chooser chooser(source);
  int yes = 0;
  for (int i = 0; i < 10000; ++i) yes += chooser.chance(Decision::Ping, 100) ? 1 : 0;
  BOOST_TEST(yes > 800);
  BOOST_TEST(yes < 1200);
}

BOOST_AUTO_TEST_CASE(a_recorded_list_replays_exactly) {
  sim::SeededChoices source(11);
  const auto recorded = draw(source, 30);
  sim::ListChoices replay(recorded);
  sim::SeededChoices again(11);
  sim::Chooser original(again);
  sim::Chooser replayed(replay);
  for (int i = 0; i < 30; ++i) {
    BOOST_TEST(replayed.pick(Decision::ReadyEvent, 7) == original.pick(Decision::ReadyEvent, 7));
    BOOST_TEST(replayed.chance(Decision::Ping, 300) == original.chance(Decision::Ping, 300));
    BOOST_TEST(replayed.between(Decision::ReadChunk, {100, 200}) ==
               original.between(Decision::ReadChunk, {100, 200}));
  }
  BOOST_TEST(!replayed.diverged());
  BOOST_TEST(replayed.record().digest == original.record().digest);
  BOOST_TEST((replayed.record().list == recorded));
}

BOOST_AUTO_TEST_CASE(a_replay_asked_something_else_diverges_and_says_where) {
  sim::ListChoices replay({{Decision::ReadyEvent, 3, 1}, {Decision::Ping, 2, 0}});
  sim::Chooser chooser(replay);
  BOOST_TEST(chooser.pick(Decision::ReadyEvent, 3) == 1U);
  BOOST_TEST(chooser.pick(Decision::ReadChunk, 9) == 0U);  // recorded: a ping
  BOOST_TEST(chooser.diverged());
  BOOST_TEST(chooser.divergence().find("choice 2") != std::string::npos);
  BOOST_TEST(chooser.divergence().find("ping") != std::string::npos);
  BOOST_TEST(chooser.pick(Decision::ReadyEvent, 3) == 0U);  // sticky: nothing more is asked
  BOOST_TEST(chooser.record().count == 1U);
}

BOOST_AUTO_TEST_CASE(a_replay_that_runs_out_diverges) {
  sim::ListChoices replay({{Decision::ReadyEvent, 3, 2}});
  sim::Chooser chooser(replay);
  BOOST_TEST(chooser.pick(Decision::ReadyEvent, 3) == 2U);
  chooser.pick(Decision::ReadyEvent, 3);
  BOOST_TEST(chooser.diverged());
  BOOST_TEST(chooser.divergence().find("after the 1 recorded") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_record_keeps_its_digest_beyond_the_list_limit) {
  sim::SeededChoices a(2), b(2);
  sim::Chooser small(a, 10);
  sim::Chooser large(b);
  for (int i = 0; i < 100; ++i) {
    small.pick(Decision::ReadyEvent, 5);
    large.pick(Decision::ReadyEvent, 5);
  }
  BOOST_TEST(!small.record().complete);
  BOOST_TEST(small.record().list.empty());
  BOOST_TEST(large.record().complete);
  BOOST_TEST(small.record().count == 100U);
  BOOST_TEST(small.record().digest == large.record().digest);
}
