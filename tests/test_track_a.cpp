// Track A options and hybrid: every combination delivers every byte, keeps its promises, and
// allocates and references exactly as the option claims.
#define BOOST_TEST_MODULE track_a
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/strategy.h"
#include "sim/summary.h"
#include "sim/world.h"

namespace sim = emitlab::sim;
using emitlab::AllocSite;
using emitlab::PassKind;
using emitlab::PassRecord;
using emitlab::StrategySpec;

namespace {

StrategySpec spec(const std::string& text) {
  const auto p = emitlab::parse_strategy(text);
  BOOST_REQUIRE_MESSAGE(p.spec.has_value(), p.error);
  return *p.spec;
}

// Every combination of options on gather and hybrid, at the default cap and at 64K.
std::vector<std::string> all_combinations() {
  std::vector<std::string> out;
  for (const char* base : {"gather", "hybrid"}) {
    for (int mask = 0; mask < 8; ++mask) {
      std::string s = base;
      if (mask & 1) s += "+A1";
      if (mask & 2) s += "+A2";
      if (mask & 4) s += "+A3";
      out.push_back(s);
      out.push_back(s + "@cap=64K");
    }
  }
  return out;
}

struct Workload {
  const char* name;
  std::uint32_t streams;
  std::size_t body;
  std::size_t cipher_ring;
  sim::Completions completions;
};

const std::vector<Workload>& workloads() {
  static const std::vector<Workload> kWorkloads = {
      {"small", 100, 3, 0, sim::Completions::NextStep},
      {"large", 20, 70000, 0, sim::Completions::NextStep},
      {"one-record ring", 40, 8000, 1, sim::Completions::NextStep},
      {"one-record ring sync", 40, 8000, 1, sim::Completions::Sync},
      {"many streams", 200, 1500, 0, sim::Completions::Sync},
  };
  return kWorkloads;
}

sim::RunResult run(const std::string& strategy, const Workload& w) {
  sim::RunConfig c;
  c.strategy = spec(strategy);
  c.streams = w.streams;
  c.body_size = w.body;
  c.cipher_ring_records = w.cipher_ring;
  c.completions = w.completions;
  c.seed = 5;
  return sim::run_world(c);
}

std::size_t at(AllocSite s) {
  return static_cast<std::size_t>(s);
}

std::uint32_t list_allocations(std::uint32_t n, std::uint32_t initial) {
  if (n == 0) return 0;
  std::uint32_t allocs = 1;
  for (std::uint32_t cap = initial; cap < n; cap *= 2) ++allocs;
  return allocs;
}

void check_a1(const sim::RunResult& r) {
  // Capacity only grows (within the bound), so the lists allocate exactly the growth steps
  // needed for the busiest pass, over the whole run.
  std::uint32_t max_entries = 0;
  std::uint32_t max_slices = 0;
  std::uint64_t list_allocs = 0;
  std::uint64_t ref_allocs = 0;
  std::uint64_t buffer_allocs = 0;
  for (const PassRecord& p : r.passes) {
    max_entries = std::max(max_entries, p.gather_entries);
    if (!r.config.strategy.release_at_close) max_slices = std::max(max_slices, p.ref_retains);
    list_allocs += p.allocs[at(AllocSite::GatherList)];
    ref_allocs += p.allocs[at(AllocSite::RefList)];
    buffer_allocs += p.allocs[at(AllocSite::HeapStage)] + p.allocs[at(AllocSite::EmitBuffer)];
  }
  // Growth returns the smaller buffer; the last one of each site lives until the connection
  // closes.
  for (std::size_t site = 0; site < emitlab::kAllocSites; ++site) {
    BOOST_TEST(r.totals.frees[site] + (r.totals.allocs[site] > 0 ? 1 : 0) == r.totals.allocs[site]);
  }
  BOOST_TEST(list_allocs == list_allocations(max_entries, 64));
  BOOST_TEST(ref_allocs == list_allocations(max_slices, 32));
  // Heap buffers are sized once for the worst pass the cap allows.
  BOOST_TEST(buffer_allocs <= 2U);
}

void check_per_pass_lists(const sim::RunResult& r) {
  for (const PassRecord& p : r.passes) {
    if (p.kind != PassKind::Gather) continue;
    BOOST_TEST(p.allocs[at(AllocSite::GatherList)] == list_allocations(p.gather_entries, 64));
    BOOST_TEST(p.allocs == p.frees);
  }
}

void check_a3(const sim::RunResult& r) {
  std::uint64_t retains = 0;
  std::uint64_t releases = 0;
  for (const PassRecord& p : r.passes) {
    if (p.streams_started == 0 && p.streams_closed == 0) BOOST_TEST(p.ref_ops() == 0U);
    BOOST_TEST(p.ref_retains == p.streams_started);
    retains += p.ref_retains;
    releases += p.ref_releases;
  }
  BOOST_TEST(releases == retains);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_combination_delivers_and_keeps_its_promises) {
  for (const auto& w : workloads()) {
    const auto drain = run("drain", w);
    BOOST_REQUIRE_MESSAGE(drain.ok(), w.name << ": " << drain.failure);
    std::map<std::string, std::vector<std::uint8_t>> wire_without_options;
    for (const auto& name : all_combinations()) {
      const auto r = run(name, w);
      BOOST_TEST_CONTEXT(w.name << " " << name) {
        BOOST_TEST(r.failure == "");
        BOOST_TEST(r.responses_verified == w.streams);
        BOOST_TEST(r.close_notify_is_last);
        BOOST_TEST(r.app == drain.app);  // lockstep: same application stream as drain
        // A1, A2, A3 promise the SSL_write sequence of the same base and cap without them.
        auto core = r.config.strategy;
        core.reuse_scratch = core.fast_path = core.release_at_close = false;
        auto [it, first] = wire_without_options.emplace(core.name(), r.wire);
        if (!first) BOOST_TEST(r.wire == it->second);
        if (r.config.strategy.reuse_scratch) check_a1(r);
        if (!r.config.strategy.reuse_scratch) check_per_pass_lists(r);
        if (r.config.strategy.release_at_close) check_a3(r);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a2_writes_single_entry_passes_without_the_stage) {
  const Workload one_frame{"one frame", 1, 10000, 0, sim::Completions::NextStep};
  const auto with = run("gather+A2", one_frame);
  const auto without = run("gather", one_frame);
  BOOST_TEST(with.ok());
  std::uint64_t fast = 0;
  for (const auto& p : with.passes) fast += p.fast_path ? 1 : 0;
  BOOST_TEST(fast > 0U);
  const auto stage = static_cast<std::size_t>(emitlab::CopySite::Stage);
  BOOST_TEST(with.totals.copied[stage] < without.totals.copied[stage]);
  BOOST_TEST(with.wire == without.wire);
}

BOOST_AUTO_TEST_CASE(hybrid_drains_small_bodies_and_gathers_large_ones) {
  const auto small = run("hybrid", workloads()[0]);
  for (const auto& p : small.passes) BOOST_TEST((p.kind == PassKind::Drain));
  const auto large = run("hybrid", workloads()[1]);
  std::uint64_t gathers = 0;
  for (const auto& p : large.passes) gathers += p.kind == PassKind::Gather ? 1 : 0;
  BOOST_TEST(gathers > 0U);
  BOOST_TEST(large.ok());
  // The threshold is exclusive: a body of exactly the threshold stays on drain.
  const Workload at_threshold{"at threshold", 10, 2048, 0, sim::Completions::NextStep};
  for (const auto& p : run("hybrid", at_threshold).passes) BOOST_TEST((p.kind == PassKind::Drain));
  const auto lowered = run("hybrid@threshold=1K", at_threshold);
  BOOST_TEST(std::any_of(lowered.passes.begin(), lowered.passes.end(),
                         [](const PassRecord& p) { return p.kind == PassKind::Gather; }));
}

BOOST_AUTO_TEST_CASE(a4_grows_the_plaintext_ring_to_hold_the_worst_parked_tail) {
  const auto gather16 = spec("gather");
  const auto gather64 = spec("gather@cap=64K");
  const auto gather256 = spec("gather@cap=256K");
  // Default 64 KiB cipher ring absorbs three whole records (49152 plaintext bytes).
  BOOST_TEST(emitlab::min_plaintext_ring(gather16, 65536) == 0U);
  BOOST_TEST(emitlab::min_plaintext_ring(gather64, 65536) == 65535U + 16393U - 49152U);
  BOOST_TEST(emitlab::min_plaintext_ring(gather16, 17408) == 16383U + 16393U - 16384U);
  BOOST_TEST(emitlab::min_plaintext_ring(spec("drain"), 17408) == 16649U);  // drain's buffer
  BOOST_TEST(emitlab::min_plaintext_ring(spec("hybrid"), 65536) == 16649U);
  // A 256K cap over a one-record ring parks tails far larger than the default 32 KiB ring.
  const Workload big{"big", 30, 9000, 1, sim::Completions::NextStep};
  sim::RunConfig c;
  c.strategy = gather256;
  c.streams = big.streams;
  c.body_size = big.body;
  c.cipher_ring_records = 1;
  const auto r = sim::run_world(c);
  BOOST_TEST(r.ok(), r.failure);
  std::uint64_t largest_park = 0;
  for (const auto& p : r.passes) largest_park = std::max(largest_park, p.parked_bytes);
  BOOST_TEST(largest_park > 32768U);
  BOOST_TEST(largest_park <= emitlab::min_plaintext_ring(gather256, 17408));
}

// A record is undersized when it carries less than 16384 bytes while more plaintext waited.
// With one stream of k x 16384 bytes and wide windows, gather at the default cap sends one DATA
// frame per pass: every pass but the last ends in a short record (its frame headers) while
// nghttp2 holds the next frame. At 64K a pass carries four frames, and its short tail record is
// made from the parked tail (after the pending full record) on the retry. Nothing waits behind
// the last record of a run, and small bodies in lockstep batches leave nothing behind a pass.
BOOST_AUTO_TEST_CASE(undersized_records_are_short_records_with_plaintext_waiting) {
  struct Case {
    const char* strategy;
    std::uint32_t streams;
    std::size_t body;
    std::uint32_t undersized;
  };
  const Case cases[] = {
      {"gather", 1, 4 * 16384, 3},
      {"gather", 1, 64 * 16384, 63},
      {"gather+A1+A2+A3", 1, 64 * 16384, 63},
      {"gather@cap=64K", 1, 64 * 16384, 64 / 4 - 1},
      {"drain", 100, 3, 0},
      {"gather", 100, 3, 0},
      {"hybrid", 100, 3, 0},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.strategy << " " << c.streams << " x " << c.body) {
      sim::RunConfig config;
      config.strategy = spec(c.strategy);
      config.streams = c.streams;
      config.body_size = c.body;
      const auto r = sim::run_world(config);
      BOOST_TEST(r.ok(), r.failure);
      BOOST_TEST(r.totals.undersized_records == c.undersized);
      // Never more than the short records the peer saw (16384 + 17 bytes is a full one).
      std::uint32_t short_records = 0;
      for (const auto& rec : r.records) short_records += rec.length < 16384 + 17 ? 1 : 0;
      BOOST_TEST(r.totals.undersized_records <= short_records);
    }
  }
}
