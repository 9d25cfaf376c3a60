// ServerConnection's pass records: exact running totals always, a bounded recent window by
// default, every record only when the config asks (kKeepAllPasses).
#define BOOST_TEST_MODULE pass_history
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <stdexcept>
#include <vector>

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

constexpr std::uint64_t kSeed = 17;
constexpr std::uint32_t kRequests = 40;
constexpr std::size_t kBody = 40000;  // several passes per response under every strategy

struct Run {
  std::vector<PassRecord> passes;
  std::uint64_t pass_count;
  PassRecord totals;
  PassRecord outside;
  std::size_t verified;
};

Run run(const char* strategy, std::size_t history, std::uint32_t requests = kRequests) {
  ConnectionConfig config;
  config.strategy = *emitlab::parse_strategy(strategy).spec;
  config.pass_history = history;
  sim::PeerConfig peer;
  peer.requests = requests;
  peer.batch = 4;
  peer.expect = emitlab::testing::expect_bodies(kSeed, emitlab::testing::fixed_size(kBody));
  emitlab::testing::Pump pump(
      config, peer, emitlab::testing::serve_bodies(kSeed, emitlab::testing::fixed_size(kBody)));
  pump.run();
  const auto& c = pump.conn();
  return {c.passes(), c.pass_count(), c.totals(), c.outside_passes(),
          pump.peer().responses_verified()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(keep_all_holds_every_record_and_totals_are_their_sum) {
  const Run all = run("gather", emitlab::kKeepAllPasses);
  BOOST_TEST(all.verified == kRequests);
  BOOST_TEST(all.passes.size() == all.pass_count);
  PassRecord sum = all.outside;
  for (std::size_t i = 0; i < all.passes.size(); ++i) {
    BOOST_TEST(all.passes[i].index == i + 1);
    sum += all.passes[i];
  }
  BOOST_TEST((sum == all.totals));
}

BOOST_AUTO_TEST_CASE(a_bounded_window_keeps_the_latest_records_and_exact_totals) {
  constexpr std::size_t kWindow = 4;
  for (const char* s : {"drain", "gather", "gather+A1+A2+A3", "hybrid"}) {
    BOOST_TEST_CONTEXT(s) {
      const Run all = run(s, emitlab::kKeepAllPasses);
      const Run bounded = run(s, kWindow);
      BOOST_TEST(bounded.verified == kRequests);
      BOOST_REQUIRE(all.pass_count > 4 * kWindow);  // the window really was trimmed
      BOOST_TEST(bounded.pass_count == all.pass_count);
      BOOST_TEST(bounded.passes.size() >= kWindow);
      BOOST_TEST(bounded.passes.size() < 2 * kWindow);
      // The same records as the tail of the full list, index for index.
      const std::size_t first = all.passes.size() - bounded.passes.size();
      for (std::size_t i = 0; i < bounded.passes.size(); ++i) {
        BOOST_TEST((bounded.passes[i] == all.passes[first + i]));
      }
      BOOST_TEST((bounded.totals == all.totals));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_default_window_is_bounded) {
  const Run def = run("drain", ConnectionConfig{}.pass_history, 4 * kRequests);
  BOOST_TEST(def.verified == 4 * kRequests);
  BOOST_TEST(def.pass_count > 2 * emitlab::kDefaultPassHistory);
  BOOST_TEST(def.passes.size() < 2 * emitlab::kDefaultPassHistory);
}

BOOST_AUTO_TEST_CASE(an_empty_window_is_refused) {
  BOOST_CHECK_THROW(run("drain", 0), std::invalid_argument);
}
