// End-to-end tests of the foundation: the real emitter against the simulated peer.
#define BOOST_TEST_MODULE world
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "core/strategy.h"
#include "sim/deterministic_tls.h"
#include "sim/summary.h"
#include "sim/world.h"

namespace sim = emitlab::sim;
using emitlab::PassRecord;
using emitlab::StrategySpec;

namespace {

StrategySpec spec(const char* text) {
  return *emitlab::parse_strategy(text).spec;
}

sim::RunConfig config(const char* strategy, std::uint32_t streams, std::size_t body,
                      std::uint64_t seed = 7) {
  sim::RunConfig c;
  c.strategy = spec(strategy);
  c.streams = streams;
  c.body_size = body;
  c.seed = seed;
  return c;
}

// Delivery checked from the peer's side, independently of the run's own verdict.
void check_delivered(const sim::RunResult& r) {
  BOOST_TEST_CONTEXT(r.config.strategy.name()
                     << " streams=" << r.config.streams << " body=" << r.config.body_size) {
    BOOST_TEST(r.failure == "");
    BOOST_TEST(r.responses_verified == r.config.streams);
    BOOST_REQUIRE_EQUAL(r.streams.size(), r.config.streams);
    for (const auto& s : r.streams) {
      BOOST_TEST(s.end_stream);
      BOOST_TEST(!s.reset);
      BOOST_TEST(s.body.size() == r.config.body_size);
      BOOST_TEST(s.body ==
                 sim::expected_response(r.config.seed, s.request_id, r.config.body_size).body);
    }
    BOOST_TEST(r.close_notify_is_last);
    // Two independent record counts: OpenSSL's (server) and the wire parser's (peer).
    BOOST_TEST(r.totals.tls_records == r.records.size());
  }
}

std::uint64_t data_frames_with_payload(const sim::RunResult& r) {
  std::uint64_t n = 0;
  for (const auto& f : r.frames) n += (f.type == 0 /* DATA */ && f.length > 0) ? 1 : 0;
  return n;
}

// Allocations a list of this initial capacity makes to hold n entries, doubling when full.
std::uint32_t list_allocations(std::uint32_t n, std::uint32_t initial) {
  if (n == 0) return 0;
  std::uint32_t allocs = 1;
  for (std::uint32_t cap = initial; cap < n; cap *= 2) ++allocs;
  return allocs;
}

std::size_t site(emitlab::AllocSite s) {
  return static_cast<std::size_t>(s);
}

}  // namespace

BOOST_AUTO_TEST_CASE(same_seed_same_bytes_in_two_worlds) {
  for (const char* s : {"drain", "gather"}) {
    const auto a = sim::run_world(config(s, 20, 5000, 42));
    const auto b = sim::run_world(config(s, 20, 5000, 42));
    BOOST_TEST(a.wire == b.wire);
    BOOST_TEST(a.app == b.app);
    const auto c = sim::run_world(config(s, 20, 5000, 43));
    BOOST_TEST(sim::sha256_hex(a.wire) != sim::sha256_hex(c.wire));
  }
}

// The property suite and the explorer give every world of a process one DeterministicTls. Rewound
// to the world's seed and set to its handshake, it must hand out the bytes a fresh one would,
// whatever ran on it before: another seed, the other handshake, another strategy.
BOOST_AUTO_TEST_CASE(a_shared_tls_context_runs_each_world_as_a_fresh_one_would) {
  std::vector<sim::Scenario> scenarios;
  for (const auto& [strategy, seed, handshake] :
       {std::tuple{"drain", 5U, sim::TlsHandshake::Certificate},
        std::tuple{"gather", 6U, sim::TlsHandshake::Psk},
        std::tuple{"gather+A1", 5U, sim::TlsHandshake::Certificate},
        std::tuple{"hybrid", 7U, sim::TlsHandshake::Psk}}) {
    sim::Scenario s = sim::to_scenario(config(strategy, 6, 20000, seed));
    s.tls.handshake = handshake;
    scenarios.push_back(s);
  }
  sim::DeterministicTls shared(1234);
  sim::RunOptions reuse;
  reuse.tls = &shared;
  for (int round = 0; round < 2; ++round) {
    for (const auto& s : scenarios) {
      BOOST_TEST_CONTEXT("round " << round << " seed " << s.seed) {
        const auto fresh = sim::run_world(s);
        const auto reused = sim::run_world(s, reuse);
        BOOST_TEST(fresh.failure == "");
        BOOST_TEST(fresh.responses_verified == 6U);
        BOOST_TEST(sim::sha256_hex(reused.wire) == sim::sha256_hex(fresh.wire));
        BOOST_TEST(sim::sha256_hex(reused.app) == sim::sha256_hex(fresh.app));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(same_seed_same_bytes_across_processes) {
  const auto in_process = sim::summarize(sim::run_world(config("gather", 10, 3000, 99)));
  auto run_cli = [] {
    const std::string cmd = std::string(EMITLAB_CLI) +
                            " run --strategy gather --streams 10 --body 3000 --seed 99 "
                            "--pacing lockstep --json";
    std::FILE* pipe = popen(cmd.c_str(), "r");
    BOOST_REQUIRE(pipe != nullptr);
    std::string out;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
    BOOST_TEST(pclose(pipe) == 0);
    // "host" measures the machine (CPU seconds), not the run: everything else must match.
    auto j = nlohmann::json::parse(out);
    j.erase("host");
    return j.dump();
  };
  const std::string first = run_cli();
  const std::string second = run_cli();
  BOOST_TEST(first == second);
  BOOST_TEST(first.find(in_process.wire_sha256) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(every_body_size_delivered_byte_exact) {
  const std::vector<std::size_t> bodies = {0,     1,     3,     100,   16375,
                                           16384, 16393, 65535, 65536, 1 << 20};
  for (std::size_t body : bodies) {
    for (std::uint32_t streams : {1U, 10U}) {
      const auto drain = sim::run_world(config("drain", streams, body));
      const auto gather = sim::run_world(config("gather", streams, body));
      check_delivered(drain);
      check_delivered(gather);
      BOOST_TEST(drain.app == gather.app, "application streams differ at body " << body);
    }
  }
}

BOOST_AUTO_TEST_CASE(one_to_two_hundred_concurrent_streams) {
  for (std::uint32_t streams : {1U, 2U, 99U, 100U, 101U, 200U}) {
    for (std::size_t body : {std::size_t{3}, std::size_t{16393}}) {
      const auto drain = sim::run_world(config("drain", streams, body));
      const auto gather = sim::run_world(config("gather", streams, body));
      check_delivered(drain);
      check_delivered(gather);
      BOOST_TEST(drain.app == gather.app);
    }
  }
}

BOOST_AUTO_TEST_CASE(drain_makes_no_emitter_allocation_and_no_reference_operation) {
  for (std::size_t body : {std::size_t{3}, std::size_t{70000}}) {
    const auto r = sim::run_world(config("drain", 50, body));
    check_delivered(r);
    BOOST_REQUIRE(!r.passes.empty());
    for (const PassRecord& p : r.passes) {
      BOOST_TEST(p.emitter_allocs() == 0U);
      BOOST_TEST(p.ref_ops() == 0U);
      BOOST_TEST(p.gather_entries == 0U);
    }
  }
}

BOOST_AUTO_TEST_CASE(gather_allocates_its_lists_every_pass_and_releases_every_reference) {
  for (std::size_t body : {std::size_t{3}, std::size_t{20000}}) {
    const auto r = sim::run_world(config("gather", 100, body));
    check_delivered(r);
    std::uint64_t retains = 0;
    std::uint64_t passes_with_lists = 0;
    for (const PassRecord& p : r.passes) {
      BOOST_TEST_CONTEXT("pass " << p.index) {
        BOOST_TEST(p.allocs[site(emitlab::AllocSite::GatherList)] ==
                   list_allocations(p.gather_entries, 64));
        BOOST_TEST(p.allocs[site(emitlab::AllocSite::RefList)] ==
                   list_allocations(p.ref_retains, 32));
        // Per-pass scratch: everything allocated in a pass is freed in it.
        BOOST_TEST(p.allocs == p.frees);
        BOOST_TEST(p.ref_retains == p.ref_releases);
      }
      retains += p.ref_retains;
      passes_with_lists += p.gather_entries > 0 ? 1 : 0;
    }
    // One reference per DATA slice, counted against the frames the peer saw.
    BOOST_TEST(retains == data_frames_with_payload(r));
    BOOST_TEST(passes_with_lists > 0U);
  }
}

// Sums of pass records (CLI, properties, benchmarks) and their differences (a benchmark's timed
// phase, bench/figures.cpp) cover every count: each count of the sum is checked against its own
// sum over the passes, and the difference of two sums is the sum of the passes between them.
template <class T>
void check_count_sums(const std::vector<PassRecord>& passes, const PassRecord& total,
                      std::initializer_list<std::pair<const char*, T PassRecord::*>> counts) {
  for (const auto& [name, field] : counts) {
    T sum = 0;
    for (const PassRecord& p : passes) sum += p.*field;
    const T got = total.*field;
    BOOST_TEST(got == sum, name);
  }
}

BOOST_AUTO_TEST_CASE(pass_record_sums_and_differences_cover_every_count) {
  auto c = config("gather", 60, 20000);
  c.cipher_ring_records = 1;
  const auto r = sim::run_world(c);
  check_delivered(r);
  PassRecord total, odd, even;  // odd and even passes, so both halves see every kind of pass
  for (std::size_t i = 0; i < r.passes.size(); ++i) {
    total += r.passes[i];
    (i % 2 == 1 ? odd : even) += r.passes[i];
  }
  using P = PassRecord;
  check_count_sums<std::uint64_t>(
      r.passes, total,
      {{"bytes", &P::bytes}, {"parked_bytes", &P::parked_bytes}, {"alloc_bytes", &P::alloc_bytes}});
  check_count_sums<std::uint32_t>(r.passes, total,
                                  {{"frames", &P::frames},
                                   {"gather_entries", &P::gather_entries},
                                   {"ssl_writes", &P::ssl_writes},
                                   {"tls_records", &P::tls_records},
                                   {"write_submissions", &P::write_submissions},
                                   {"parks", &P::parks},
                                   {"nghttp2_allocs", &P::nghttp2_allocs},
                                   {"nghttp2_frees", &P::nghttp2_frees},
                                   {"ref_retains", &P::ref_retains},
                                   {"ref_releases", &P::ref_releases},
                                   {"owner_releases", &P::owner_releases},
                                   {"objects_destroyed", &P::objects_destroyed},
                                   {"streams_closed", &P::streams_closed},
                                   {"streams_started", &P::streams_started}});
  std::uint64_t allocs = 0, frees = 0, copied = 0;
  for (const PassRecord& p : r.passes) {
    allocs += p.emitter_allocs();
    frees += p.emitter_frees();
    copied += p.copied_total();
  }
  BOOST_TEST(total.emitter_allocs() == allocs);
  BOOST_TEST(total.emitter_frees() == frees);
  BOOST_TEST(total.copied_total() == copied);
  BOOST_TEST(odd.emitter_allocs() > 0U);
  BOOST_TEST(odd.write_submissions > 0U);
  BOOST_TEST(odd.copied_total() > 0U);
  total -= odd;
  BOOST_TEST((total == even));
  total -= even;
  BOOST_TEST((total == PassRecord{}));
}

BOOST_AUTO_TEST_CASE(one_record_cipher_ring_forces_parks_and_delivers_everything) {
  for (auto completions : {sim::Completions::Sync, sim::Completions::NextStep}) {
    auto c = config("gather", 50, 8000);
    c.cipher_ring_records = 1;
    c.completions = completions;
    const auto gather = sim::run_world(c);
    check_delivered(gather);
    BOOST_TEST(gather.totals.parks > 0U);
    c.strategy = spec("drain");
    const auto drain = sim::run_world(c);
    check_delivered(drain);
    BOOST_TEST(drain.app == gather.app);
  }
}

BOOST_AUTO_TEST_CASE(completions_do_not_change_the_application_stream) {
  for (const char* s : {"drain", "gather"}) {
    auto c = config(s, 30, 40000);
    c.completions = sim::Completions::Sync;
    const auto sync = sim::run_world(c);
    c.completions = sim::Completions::NextStep;
    const auto async = sim::run_world(c);
    check_delivered(sync);
    check_delivered(async);
    BOOST_TEST(sync.app == async.app);
  }
}

BOOST_AUTO_TEST_CASE(gather_skips_passes_while_a_write_is_in_flight) {
  const auto r = sim::run_world(config("gather", 20, 200000));
  check_delivered(r);
  for (const PassRecord& p : r.passes) {
    if (!p.skipped) continue;
    BOOST_TEST(p.bytes == 0U);
    BOOST_TEST(p.ssl_writes == 0U);
    BOOST_TEST(p.emitter_allocs() == 0U);
  }
}

BOOST_AUTO_TEST_CASE(gather_pass_respects_the_byte_cap_rule) {
  // The cap is checked before each append: a pass carries at most cap - 1 + one frame.
  const auto r = sim::run_world(config("gather", 40, 70000));
  check_delivered(r);
  for (const PassRecord& p : r.passes) {
    BOOST_TEST(p.bytes <= StrategySpec::kDefaultCap - 1 + 16384 + 9);
  }
}
