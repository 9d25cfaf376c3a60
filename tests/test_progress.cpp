// The progress counter the world exposes and the line the CLI prints from it: the counter ends
// at the number of requests, it never changes a run, and the line says done, total, rate,
// elapsed and what is left.
#define BOOST_TEST_MODULE progress
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <sstream>
#include <string>

#include "cli/progress.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace sim = emitlab::sim;
using emitlab::cli::ProgressLine;

BOOST_AUTO_TEST_CASE(the_counter_ends_at_the_requests_and_changes_nothing) {
  auto parsed = sim::parse_scenario(
      R"({"workload":{"connections":3,"requests":50,"body":[0,20000],"pacing":"closed-loop"},
          "peer":{"reset_permille":20}})");
  BOOST_REQUIRE(parsed.scenario);
  std::atomic<std::uint64_t> done{0};
  sim::RunOptions counted;
  counted.progress = &done;
  const auto a = sim::run_world(*parsed.scenario, counted);
  const auto b = sim::run_world(*parsed.scenario);
  BOOST_TEST(a.failure == "");
  BOOST_TEST(done.load() == 50U);
  BOOST_TEST(done.load() == a.responses_verified + a.responses_failed + a.responses_cancelled);
  BOOST_TEST(a.responses_cancelled > 0U);  // given-up requests count as finished
  BOOST_TEST(a.wire_sha256() == b.wire_sha256());
  BOOST_TEST(a.choices.digest == b.choices.digest);
}

BOOST_AUTO_TEST_CASE(the_line_names_done_total_rate_elapsed_and_estimate) {
  // 1000 of 4000 in 4 s: 250/s, 3000 left at that rate is 12 s.
  BOOST_TEST(ProgressLine::format("gather", 1000, 4000, 4.0) ==
             "emitlab: gather: 1000/4000 requests, 250/s, 4 s elapsed, about 12 s left");
  // 100 of 10000 in 2 s: 9900 / 50 per s = 198 s.
  BOOST_TEST(ProgressLine::format("", 100, 10000, 2.0) ==
             "emitlab: 100/10000 requests, 50/s, 2 s elapsed, about 3 min 18 s left");
  // Nothing done yet: no estimate; everything done: none either.
  BOOST_TEST(ProgressLine::format("drain", 0, 10, 3.0) ==
             "emitlab: drain: 0/10 requests, 0/s, 3 s elapsed");
  BOOST_TEST(ProgressLine::format("drain", 10, 10, 3.0).find("left") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_disabled_line_prints_nothing) {
  std::atomic<std::uint64_t> done{0};
  std::ostringstream out;
  { const ProgressLine line(done, 10, "drain", out, false); }
  BOOST_TEST(out.str() == "");
}
