// The explorer (sim/explore.h, check/explore_checked.h): a rewound DeterministicTls gives the
// bytes of a fresh one, pruning never changes a verdict, shards add up to one run and meet the
// same first violation, emitters broken on purpose are caught (and their schedules replay), and
// every named scope is exhausted clean by every strategy.
//
// EMITLAB_EXPLORE_SWEEP=small (the ASan preset sets it) sweeps fewer strategies per scope.
#define BOOST_TEST_MODULE explore
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "check/explore_checked.h"
#include "core/drain_emitter.h"
#include "core/gather_emitter.h"
#include "core/hybrid_emitter.h"
#include "core/mutant.h"
#include "sim/deterministic_tls.h"
#include "sim/replay.h"
#include "sim/scope.h"
#include "sim/world.h"
#include "tests/support/broken_emitters.h"

namespace {

using namespace emitlab;
namespace check = emitlab::check;

StrategySpec spec(const std::string& text) {
  auto parsed = parse_strategy(text);
  BOOST_REQUIRE_MESSAGE(parsed.spec, text + ": " + parsed.error);
  return *parsed.spec;
}

const sim::Scope& scope(const std::string& name) {
  const sim::Scope* s = sim::find_scope(name);
  BOOST_REQUIRE_MESSAGE(s != nullptr, name);
  return *s;
}

struct Exploration {
  Exploration(std::string scope_name, std::string spec_text, std::uint32_t k,
              std::string broken = {})
      : scope(std::move(scope_name)),
        strategy(std::move(spec_text)),
        bound(k),
        emitter(std::move(broken)) {}
  std::string scope;
  std::string strategy;
  std::uint32_t bound = 1;
  std::string emitter;  // a broken emitter below, or core's
  bool prune = true;
  std::uint32_t shard = 0, shards = 1;
};

// Encrypts and ships each frame at once, with no gate (as props/prop_replay_e2e.cpp's
// test:gateless): the next frame is encrypted while the previous span is in flight.
class GatelessDirect final : public Emitter {
 public:
  void run_pass(EmitContext& ctx) override {
    const std::uint8_t* data = nullptr;
    for (ssize_t n; (n = nghttp2_session_mem_send(ctx.session.raw(), &data)) > 0;) {
      if (!ctx.tls.write_direct({data, static_cast<std::size_t>(n)})) break;
      ctx.tls.drain();
    }
  }
};

EmitterFactory factory(const std::string& name) {
  if (name == "broken-release") {
    return [](const StrategySpec& s, EmitterHeap& heap) -> std::unique_ptr<Emitter> {
      return std::make_unique<GatherEmitter>(
          s, heap, std::make_unique<testing::ReleaseAtCloseWithoutDeferral>());
    };
  }
  if (name == "unpinned-hybrid") {
    return [](const StrategySpec& s, EmitterHeap& heap) -> std::unique_ptr<Emitter> {
      return std::make_unique<testing::UnpinnedHybrid>(s, heap);
    };
  }
  if (name == "gateless") {
    return [](const StrategySpec&, EmitterHeap&) -> std::unique_ptr<Emitter> {
      return std::make_unique<GatelessDirect>();
    };
  }
  return {};
}

sim::ExploreReport explore(const Exploration& e) {
  const sim::Scope& s = scope(e.scope);
  check::ExploreRequest r;
  r.scenario = s.scenario;
  r.scenario.strategy = spec(e.strategy);
  r.limits = check::limits_of(s);
  r.limits.bound = e.bound;
  r.limits.prune = e.prune;
  r.limits.shard = e.shard;
  r.limits.shards = e.shards;
  if (!e.emitter.empty()) {
    r.run.emitter = e.emitter;
    r.run.factory = factory(e.emitter);
  }
  return check::explore_checked(r);
}

std::string rule_of(const sim::ExploreReport& r) {
  return r.violation ? r.violation->rule : "clean";
}

bool small_sweep() {
  const char* v = std::getenv("EMITLAB_EXPLORE_SWEEP");
  return v != nullptr && std::string(v) == "small";
}

// ---------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rewound_tls_gives_the_bytes_of_a_fresh_one) {
  sim::Scenario a = scope("inflight-encrypt").scenario;
  a.strategy = spec("gather");
  sim::Scenario b = a;
  b.seed = a.seed + 41;  // another keystream first, so a missing rewind would show
  const sim::RunResult fresh = sim::run_world(a);
  sim::DeterministicTls tls(b.seed);
  sim::RunOptions reuse;
  reuse.tls = &tls;
  const sim::RunResult other = sim::run_world(b, reuse);
  const sim::RunResult rewound = sim::run_world(a, reuse);
  BOOST_REQUIRE(fresh.ok());
  BOOST_TEST(other.wire_sha256() != fresh.wire_sha256());  // the seeds' ciphertexts differ
  BOOST_TEST(rewound.wire_sha256() == fresh.wire_sha256());
  BOOST_TEST(rewound.app_sha256() == fresh.app_sha256());
  BOOST_TEST(rewound.choices.digest == fresh.choices.digest);
  BOOST_TEST(rewound.choices.count == fresh.choices.count);
}

// The same in the psk handshake the scopes make, and a DeterministicTls that served certificate
// handshakes first is switched, not stuck.
BOOST_AUTO_TEST_CASE(rewound_tls_gives_the_bytes_of_a_fresh_one_in_the_psk_handshake) {
  sim::Scenario a = scope("inflight-encrypt").scenario;
  BOOST_REQUIRE(a.tls.handshake == sim::TlsHandshake::Psk);  // the scopes' default
  a.strategy = spec("gather");
  sim::Scenario certificate = a;
  certificate.tls.handshake = sim::TlsHandshake::Certificate;
  certificate.seed = a.seed + 41;
  const sim::RunResult fresh = sim::run_world(a);
  sim::DeterministicTls tls(certificate.seed);
  sim::RunOptions reuse;
  reuse.tls = &tls;
  const sim::RunResult other = sim::run_world(certificate, reuse);
  const sim::RunResult rewound = sim::run_world(a, reuse);
  BOOST_REQUIRE(fresh.ok());
  BOOST_REQUIRE(other.ok());
  certificate.seed = a.seed;  // the same seed in the certificate handshake: other ciphertext
  const sim::RunResult same_seed = sim::run_world(certificate);
  BOOST_TEST(same_seed.wire_sha256() != fresh.wire_sha256());
  BOOST_TEST(same_seed.app_sha256() == fresh.app_sha256());
  BOOST_TEST(other.wire_sha256() != fresh.wire_sha256());
  BOOST_TEST(rewound.wire_sha256() == fresh.wire_sha256());
  BOOST_TEST(rewound.app_sha256() == fresh.app_sha256());
  BOOST_TEST(rewound.choices.digest == fresh.choices.digest);
  BOOST_TEST(rewound.choices.count == fresh.choices.count);
}

BOOST_AUTO_TEST_CASE(scopes_make_the_psk_handshake_unless_their_file_says_certificate) {
  for (const sim::Scope& s : sim::named_scopes()) {
    BOOST_TEST((s.scenario.tls.handshake == sim::TlsHandshake::Psk), s.name);
  }
  const auto plain = sim::parse_scope(R"({"scenario": {"workload": {"body": 5}}})", "f.json");
  BOOST_REQUIRE(plain.scope);
  BOOST_TEST((plain.scope->scenario.tls.handshake == sim::TlsHandshake::Psk));
  BOOST_TEST(plain.scope->scenario.workload.body.max == 5u);
  const auto chosen =
      sim::parse_scope(R"({"scenario": {"tls": {"handshake": "certificate"}}})", "f.json");
  BOOST_REQUIRE(chosen.scope);
  BOOST_TEST((chosen.scope->scenario.tls.handshake == sim::TlsHandshake::Certificate));
  // Only the handshake differs from a scenario file's defaults.
  sim::Scenario expected;
  expected.workload.body = {5, 5};
  expected.tls.handshake = sim::TlsHandshake::Psk;
  BOOST_TEST((plain.scope->scenario == expected));
}

// Absolute virtual times in a finding's words: the psk flight is shorter, so everything after
// it happens a constant few hundred nanoseconds earlier (at the link's bandwidth).
std::string without_times(const std::string& detail) {
  static const std::regex kAt(" at [0-9]+ ns");
  return std::regex_replace(detail, kAt, " at T ns");
}

// What a schedule did after its handshake, as the rules see it: the application streams, every
// pass (kind, gate, bytes, frames, SSL_write calls, records, submissions, parks, pins) and every
// write submission after the server's handshake flight (its first), and the verdict. The
// handshake's own bytes are not in it: they are what the two handshakes differ in.
std::string after_handshake(const check::CheckedRun& run) {
  std::string out =
      run.result.app_sha256() + " " + without_times(run.result.failure) + " " +
      (run.finding ? run.finding->rule + ": " + without_times(run.finding->detail) : "clean");
  for (const auto& c : run.result.connections) {
    out += "\nconnection " + std::to_string(c.index) + " verified " +
           std::to_string(c.responses_verified) + " failed " + std::to_string(c.responses_failed);
    for (const PassRecord& p : c.passes) {
      out += "\n pass " + std::to_string(static_cast<int>(p.kind)) + " " +
             std::to_string(p.skipped) + " " + std::to_string(p.bytes) + " " +
             std::to_string(p.frames) + " " + std::to_string(p.ssl_writes) + " " +
             std::to_string(p.tls_records) + " " + std::to_string(p.write_submissions) + " " +
             std::to_string(p.parks) + " " + std::to_string(p.parked_bytes) + " " +
             std::to_string(p.drain_slice_parked) + std::to_string(p.gather_frame_deferred);
    }
  }
  for (const auto& per_connection : run.writes) {
    out += "\nwrites";
    for (std::size_t i = 1; i < per_connection.size(); ++i) {
      out += " " + std::to_string(per_connection[i]);
    }
  }
  return out;
}

struct Traced {
  sim::ExploreReport report;
  std::vector<std::string> schedules;  // after_handshake of every run, in order
  std::vector<std::string> wires;      // wire_sha256 of every run
};

Traced explore_traced(const sim::Scope& s, const std::string& strategy, sim::TlsHandshake h,
                      Mutant mutant = Mutant::None, std::uint32_t bound = 0) {
  check::ExploreRequest r;
  r.scenario = s.scenario;
  r.scenario.strategy = spec(strategy);
  r.scenario.tls.handshake = h;
  r.scenario.mutant = mutant;
  r.limits = check::limits_of(s);
  if (mutant != Mutant::None) r.limits.bound = bound;
  Traced t;
  r.observe = [&t](const check::CheckedRun& run) {
    t.schedules.push_back(after_handshake(run));
    t.wires.push_back(run.result.wire_sha256());
  };
  t.report = check::explore_checked(r);
  return t;
}

// Why the psk handshake is sound for the explorer: every named scope, explored in both
// handshakes, runs the same schedules in the same order, each with the same application
// streams, the same passes and SSL_write calls and the same verdict, and counts the same
// schedules, distinct states and pruned nodes; only the ciphertext differs.
BOOST_AUTO_TEST_CASE(psk_and_certificate_handshakes_explore_the_same_schedules) {
  const std::vector<std::string> strategies =
      small_sweep() ? std::vector<std::string>{"gather"}
                    : std::vector<std::string>{"gather", "drain", "hybrid+A1+A2+A3"};
  for (const sim::Scope& s : sim::named_scopes()) {
    for (const auto& strategy : strategies) {
      BOOST_TEST_CONTEXT(s.name << " " << strategy) {
        const Traced psk = explore_traced(s, strategy, sim::TlsHandshake::Psk);
        const Traced certificate = explore_traced(s, strategy, sim::TlsHandshake::Certificate);
        BOOST_TEST(psk.report.exhausted);
        BOOST_TEST(rule_of(psk.report) == rule_of(certificate.report));
        BOOST_TEST(psk.report.counts.schedules == certificate.report.counts.schedules);
        BOOST_TEST(psk.report.counts.runs == certificate.report.counts.runs);
        BOOST_TEST(psk.report.counts.distinct_states == certificate.report.counts.distinct_states);
        BOOST_TEST(psk.report.counts.pruned == certificate.report.counts.pruned);
        BOOST_REQUIRE(psk.schedules.size() == certificate.schedules.size());
        for (std::size_t i = 0; i < psk.schedules.size(); ++i) {
          BOOST_TEST(psk.schedules[i] == certificate.schedules[i], "run " << i);
          BOOST_TEST(psk.wires[i] != certificate.wires[i], "run " << i);
        }
      }
    }
  }
}

// Every mutant of the bug zoo is caught on its teeth scope by the same rule, after the same
// number of schedules and with the same deviations (in words), in both handshakes.
BOOST_AUTO_TEST_CASE(every_mutant_is_caught_by_the_same_rule_in_both_handshakes) {
  for (const auto& m : mutant_table()) {
    if (m.mutant == Mutant::None) continue;
    const sim::TeethScope& t = sim::teeth_scope(m.mutant);
    BOOST_TEST_CONTEXT(m.name << " on " << t.scope << " " << t.strategy) {
      const Traced psk = explore_traced(scope(std::string(t.scope)), std::string(t.strategy),
                                        sim::TlsHandshake::Psk, m.mutant, t.bound);
      const Traced certificate =
          explore_traced(scope(std::string(t.scope)), std::string(t.strategy),
                         sim::TlsHandshake::Certificate, m.mutant, t.bound);
      BOOST_REQUIRE(psk.report.violation);
      BOOST_REQUIRE(certificate.report.violation);
      BOOST_TEST(psk.report.violation->rule == certificate.report.violation->rule);
      BOOST_TEST(without_times(psk.report.violation->detail) ==
                 without_times(certificate.report.violation->detail));
      BOOST_TEST(psk.report.violation->schedule == certificate.report.violation->schedule);
      BOOST_TEST(psk.report.counts.schedules == certificate.report.counts.schedules);
      BOOST_REQUIRE(psk.schedules.size() == certificate.schedules.size());
      for (std::size_t i = 0; i < psk.schedules.size(); ++i) {
        BOOST_TEST(psk.schedules[i] == certificate.schedules[i], "run " << i);
      }
    }
  }
}

// K = 0 is the one schedule of defaults; K = 1 adds one schedule per non-default value of
// every question after the handshake, so it needs more than one, and every schedule of K = 0
// counts once.
BOOST_AUTO_TEST_CASE(bound_zero_is_one_schedule_and_bounds_nest) {
  const auto k0 = explore({"shutdown-inflight", "gather", 0});
  const auto k1 = explore({"shutdown-inflight", "gather", 1});
  BOOST_TEST(k0.exhausted);
  BOOST_TEST(k0.counts.schedules == 1u);
  BOOST_TEST(k1.exhausted);
  BOOST_TEST(k1.counts.schedules > 2u);
  BOOST_TEST(k1.counts.runs == k1.counts.schedules + 1);  // the root re-run to learn K = 1
}

BOOST_AUTO_TEST_CASE(a_schedule_bound_stops_before_the_end) {
  const sim::Scope& s = scope("inflight-encrypt");
  check::ExploreRequest r;
  r.scenario = s.scenario;
  r.limits = check::limits_of(s);
  r.limits.max_schedules = 5;
  const auto report = check::explore_checked(r);
  BOOST_TEST(!report.exhausted);
  BOOST_TEST(report.stopped_by == "max-schedules");
  BOOST_TEST(report.counts.schedules == 5u);
}

// Pruning skips what it has seen; it must never change a verdict, clean or not, and it must
// actually skip something somewhere (or this test would compare two unpruned runs).
BOOST_AUTO_TEST_CASE(pruning_never_changes_a_verdict) {
  const std::vector<Exploration> cases = {
      {"close-inside-pass", "gather", 3},
      {"close-inside-pass", "gather+A3", 3, "broken-release"},
      {"inflight-encrypt", "drain", 2, "gateless"},
      {"nocopy-deferred-last-large", "hybrid", 2, "unpinned-hybrid"},
      {"three-byte", "hybrid+A1+A2+A3", 3},
  };
  std::uint64_t pruned = 0;
  for (Exploration e : cases) {
    const auto with = explore(e);
    e.prune = false;
    const auto without = explore(e);
    const std::string what = e.scope + " " + e.strategy + " " + e.emitter;
    BOOST_TEST(rule_of(with) == rule_of(without), what);
    BOOST_TEST(with.exhausted == without.exhausted, what);
    BOOST_TEST(with.counts.schedules <= without.counts.schedules, what);
    if (with.violation && without.violation) {
      BOOST_TEST(with.violation->deviations == without.violation->deviations, what);
    }
    pruned += with.counts.pruned;
  }
  BOOST_TEST(pruned > 0u);
}

BOOST_AUTO_TEST_CASE(three_shards_add_up_to_one_run) {
  const Exploration whole{"close-inside-pass", "gather", 3};
  const auto one = explore(whole);
  BOOST_REQUIRE(one.exhausted);
  BOOST_REQUIRE(one.counts.pruned > 0u);  // the per-subtree tables are part of the sum
  std::uint64_t schedules = 0, distinct = 0, pruned = 0;
  for (std::uint32_t k = 0; k < 3; ++k) {
    Exploration part = whole;
    part.shard = k;
    part.shards = 3;
    const auto r = explore(part);
    BOOST_TEST(r.exhausted);
    BOOST_TEST(r.counts.schedules > 0u);
    schedules += r.counts.schedules;
    distinct += r.counts.distinct_states;
    pruned += r.counts.pruned;
  }
  BOOST_TEST(schedules == one.counts.schedules);
  BOOST_TEST(distinct == one.counts.distinct_states);
  BOOST_TEST(pruned == one.counts.pruned);
}

bool before(const sim::FoundViolation& a, const sim::FoundViolation& b) {
  if (a.deviations != b.deviations) return a.deviations < b.deviations;
  return a.ordinal < b.ordinal;
}

BOOST_AUTO_TEST_CASE(the_first_violation_of_three_shards_is_the_unsharded_one) {
  const Exploration whole{"inflight-encrypt", "drain", 2, "gateless"};
  const auto one = explore(whole);
  BOOST_REQUIRE(one.violation);
  std::optional<sim::FoundViolation> first;
  for (std::uint32_t k = 0; k < 3; ++k) {
    Exploration part = whole;
    part.shard = k;
    part.shards = 3;
    const auto r = explore(part);
    if (r.violation && (!first || before(*r.violation, *first))) first = r.violation;
  }
  BOOST_REQUIRE(first);
  BOOST_TEST(first->rule == one.violation->rule);
  BOOST_TEST(first->deviations == one.violation->deviations);
  BOOST_TEST(first->ordinal == one.violation->ordinal);
  BOOST_TEST(first->token == one.violation->token);
  BOOST_TEST(first->schedule == one.violation->schedule);
}

// Emitters broken on purpose are caught, by the rule that names their defect, and the token
// of the violating schedule reruns it with the same answers and the same finding.
BOOST_AUTO_TEST_CASE(broken_emitters_are_caught_and_their_schedules_replay) {
  struct Want {
    Exploration e;
    std::string rule_prefix;
  };
  const std::vector<Want> wants = {
      {{"inflight-encrypt", "drain", 1, "gateless"}, "core:"},
      {{"close-inside-pass", "gather+A3", 2, "broken-release"}, ""},
      {{"nocopy-deferred-last-large", "hybrid", 2, "unpinned-hybrid"}, ""},
  };
  for (const Want& w : wants) {
    const auto r = explore(w.e);
    BOOST_TEST_CONTEXT(w.e.emitter) {
      BOOST_REQUIRE(r.violation);
      BOOST_TEST(r.violation->rule.rfind(w.rule_prefix, 0) == 0u, r.violation->rule);
      BOOST_TEST(r.violation->deviations <= w.e.bound);
      auto token = sim::decode(r.violation->token);
      BOOST_REQUIRE(token.token);
      BOOST_REQUIRE(token.token->choices);
      sim::ListChoices recorded(*token.token->choices);
      check::CheckOptions o;
      o.emitter = w.e.emitter;
      o.factory = factory(w.e.emitter);
      o.choices = &recorded;
      const auto again = check::run_checked(token.token->scenario, o);
      BOOST_REQUIRE(again.finding);
      BOOST_TEST(again.finding->rule == r.violation->rule);
      BOOST_TEST(again.finding->detail == r.violation->detail);
    }
  }
}

// Item 7: every named scope is exhausted clean, to its bound, by every strategy.
BOOST_AUTO_TEST_CASE(every_named_scope_is_exhausted_clean_by_every_strategy) {
  // Every subset of A1..A3 on gather, A4 (caps 64K and 256K; 16K is gather's default cap, so
  // gather itself), and hybrid bare and with every option.
  const std::vector<std::string> all = {"drain",           "gather",
                                        "gather+A1",       "gather+A2",
                                        "gather+A3",       "gather+A1+A2",
                                        "gather+A1+A3",    "gather+A2+A3",
                                        "gather+A1+A2+A3", "gather+A1+A2+A3@cap=64K",
                                        "gather@cap=256K", "hybrid",
                                        "hybrid+A1+A2+A3"};
  const std::vector<std::string> few = {"drain", "gather+A1+A2+A3@cap=16K", "hybrid+A3"};
  for (const sim::Scope& s : sim::named_scopes()) {
    for (const auto& strategy : small_sweep() ? few : all) {
      const auto r = explore({s.name, strategy, s.bound});
      BOOST_TEST_CONTEXT(s.name << " " << strategy) {
        BOOST_TEST(rule_of(r) == "clean",
                   (r.violation ? r.violation->detail + " [" + r.violation->schedule + "]" : ""));
        BOOST_TEST(r.exhausted);
        BOOST_TEST(r.counts.schedules > (s.bound > 0 ? 1u : 0u));
      }
    }
  }
}

}  // namespace
