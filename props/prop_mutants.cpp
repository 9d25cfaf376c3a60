// The bug zoo (core/mutant.h), mutant by mutant: a hand-made scenario and seed armed with the
// mutant is caught by the rule this file names, and the same scenario with no mutant keeps
// every rule. The replay token of the caught run carries the mutant, and rerunning the token
// reproduces the run. A mutant added to core's table without a case here fails the first test.
#include <algorithm>
#include <set>

#include "core/mutant.h"
#include "props/runner.h"
#include "props/tiers.h"
#include "sim/replay.h"

namespace emitlab::props {
namespace {

sim::Scenario base(const char* strategy, std::uint32_t requests, sim::Range body) {
  sim::Scenario s;
  s.strategy = *parse_strategy(strategy).spec;
  s.workload.requests = requests;
  s.workload.concurrency = requests;
  s.workload.body = body;
  return s;
}

struct ZooCase {
  Mutant mutant;
  const char* rule;  // the rule expected to catch it (README, "Rule names")
  sim::Scenario (*scenario)();
};

// Each scenario reaches its mutant's hazard (mutant_info(m).hazard) on its seed.
const ZooCase kZoo[] = {
    // Several records of plaintext queued: the drain's second turn meets the first in flight.
    {Mutant::InflightGateOff, "core:no_encrypt_while_in_flight",
     [] {
       return base("drain", 10, {102400, 102400});
     }},
    // A 64K-cap pass over a one-record cipher ring meets WANT_WRITE after its first record;
    // the dropped tail leaves OpenSSL's pending record to be "retried" with the next pass's
    // bytes: the peer reads a frame header in the middle of a body.
    {Mutant::WantWriteFatal, "run_failed",
     [] {
       sim::Scenario s = base("gather@cap=64K", 10, {102400, 102400});
       s.rings.cipher_out_records = 1;
       return s;
     }},
    // Drain parks a slice on nearly every pass of large bodies; window updates arrive while it
    // is parked and the read path drains past it: bytes are lost and the peer waits forever.
    {Mutant::SecondDrainCursor, "liveness_stalled",
     [] {
       return base("drain", 10, {102400, 102400});
     }},
    // Bodies of 50-70 KB, large above 64K: drain serves the small ones, parking a slice at the
    // end of nearly every pass (its buffer holds one DATA frame and a piece of the next), while
    // requests keep arriving (closed loop, two at a time); a large one opens with the slice
    // parked. The step rule pin_drain sees the switch at that pass's end; gather then defers a
    // frame at its cap with the slice still parked, and core's P6 (never both pins at once),
    // which check_run ranks first, stops the connection.
    {Mutant::HybridNoDrainPin, "core:hybrid_pin",
     [] {
       sim::Scenario s = base("hybrid@threshold=64K", 40, {50000, 70000});
       s.workload.concurrency = 2;
       s.workload.pacing = sim::Pacing::ClosedLoop;
       return s;
     }},
    // The shape props_replay_e2e's unpinned hybrid shrank to: the latched streaming stream
    // closes inside a gather pass while another stream's frame is deferred at the cap.
    {Mutant::HybridGatherToDrain, "pin_gather",
     [] {
       sim::Scenario s = base("hybrid@threshold=32K", 4, {16374, 16374});
       s.seed = 2;
       s.workload.kinds = {1, 1, 0, 0, 0};
       s.link.bandwidth = 10000000;
       s.peer.window = sim::WindowPolicy::Eager;
       return s;
     }},
    // Small bodies end in the pass that sent them: the body is freed before the flush copies
    // it, and the poisoning allocator turns the stale entry into wrong bytes.
    {Mutant::ReleaseAtCloseNoDefer, "stream_delivered",
     [] {
       return base("gather+A3", 10, {1000, 1000});
     }},
    // 200 KB bodies against nghttp2's 64K windows: every window empties while the peer's
    // WINDOW_UPDATE is 20 us away and every write has completed.
    {Mutant::NoWindowRedrive, "liveness_stalled",
     [] {
       sim::Scenario s = base("gather", 2, {200000, 200000});
       s.peer.window = sim::WindowPolicy::Half;
       return s;
     }},
    // The peer's GOAWAY ends the session while drain's last frames wait in the plaintext ring
    // (the peer would also see close_notify with requests incomplete: run_failed).
    {Mutant::EarlyCloseNotify, "core:close_notify_after_data",
     [] {
       sim::Scenario s = base("drain", 20, {30000, 100000});
       s.workload.concurrency = 4;
       s.workload.pacing = sim::Pacing::ClosedLoop;
       s.peer.goaway_permille = 300;
       return s;
     }},
    // The shared (immutable) body in gather passes: retains without releases in the pass.
    {Mutant::RefcountOnImmutable, "refs_per_pass",
     [] {
       sim::Scenario s = base("gather", 4, {20000, 20000});
       s.workload.kinds = {1, 0, 0, 0, 1};
       return s;
     }},
    // The peer's PINGs: each answered twice, and the peer refuses the second ACK.
    {Mutant::PingAnsweredTwice, "run_failed",
     [] {
       sim::Scenario s = base("gather", 10, {20000, 20000});
       s.workload.concurrency = 2;
       s.workload.pacing = sim::Pacing::ClosedLoop;
       s.peer.ping_permille = 300;
       return s;
     }},
    // The peer's first WINDOW_UPDATE runs a pass inside nghttp2's callback.
    {Mutant::EmitInsideCallback, "core:no_send_in_callback",
     [] {
       return base("gather", 2, {200000, 200000});
     }},
};

Verdict check_with(sim::Scenario s, Mutant m) {
  s.mutant = m;
  return check_every_rule({s, {}});
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_mutant_has_a_case) {
  std::set<Mutant> covered;
  for (const ZooCase& z : kZoo) covered.insert(z.mutant);
  for (const MutantInfo& row : mutant_table()) {
    if (row.mutant == Mutant::None) continue;
    BOOST_TEST(covered.count(row.mutant) == 1U, row.name);
    BOOST_TEST(!row.history.empty());
    BOOST_TEST(!row.hazard.empty());
  }
}

BOOST_AUTO_TEST_CASE(every_mutant_is_caught_by_its_rule_and_the_scenario_is_clean_without_it) {
  for (const ZooCase& z : kZoo) {
    const std::string name(to_string(z.mutant));
    BOOST_TEST_CONTEXT("mutant " << name) {
      const Verdict clean = check_with(z.scenario(), Mutant::None);
      BOOST_TEST(!clean.finding, (clean.finding ? clean.finding->line() : ""));
      const Verdict caught = check_with(z.scenario(), z.mutant);
      BOOST_TEST(caught.finding.has_value(), "not caught");
      if (!caught.finding) continue;
      BOOST_TEST(caught.finding->rule == z.rule, caught.finding->line());
      BOOST_TEST_MESSAGE(name << ": " << caught.finding->line());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_mutant_runs_replay_token_carries_it_and_reproduces_the_run) {
  for (const ZooCase& z : kZoo) {
    BOOST_TEST_CONTEXT("mutant " << to_string(z.mutant)) {
      const Verdict caught = check_with(z.scenario(), z.mutant);
      if (caught.runs.empty() || !caught.finding) {
        BOOST_TEST(false, "not caught");
        continue;
      }
      const CheckedRun& run = caught.runs[caught.failing_run];
      const sim::TokenParse token = sim::decode(run.token);
      if (!token.token) {
        BOOST_TEST(false, token.error);
        continue;
      }
      BOOST_TEST((token.token->scenario.mutant == z.mutant));
      // The token's scenario, rerun with the token's choices: the same run, the same verdict.
      const CheckedRun again = run_checked(token.token->scenario);
      BOOST_TEST(sim::replay_mismatch(*token.token, again.result).empty());
      BOOST_TEST(again.result.wire_sha256() == run.result.wire_sha256());
      BOOST_TEST(again.result.app_sha256() == run.result.app_sha256());
      BOOST_TEST((again.finding.has_value() && again.finding->line() == run.finding->line()));
    }
  }
}

// The half of early-close-notify no other rule sees: close_notify written while the GOAWAY's
// write is in flight and nothing is queued. In this emitter's rings that loses no byte, so the
// peer, the streams and every end-of-run rule stay clean; before core checked P9 where
// close_notify is written (Rule::CloseNotifyAfterData) this run kept every rule.
BOOST_AUTO_TEST_CASE(close_notify_with_only_a_write_in_flight_is_caught_by_p9) {
  const sim::Scenario s = base("gather", 10, {3, 3});
  BOOST_TEST(!check_with(s, Mutant::None).finding);
  const Verdict v = check_with(s, Mutant::EarlyCloseNotify);
  BOOST_REQUIRE(v.finding);
  BOOST_TEST(v.finding->rule == "core:close_notify_after_data", v.finding->line());
  BOOST_TEST(v.finding->detail.find(" 0 plaintext bytes queued") != std::string::npos,
             v.finding->line());
}

}  // namespace emitlab::props
