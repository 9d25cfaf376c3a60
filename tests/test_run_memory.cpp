// A run without history (RunOptions::keep_history = false, what `emitlab run` and `compare`
// use) keeps only what is open: what it retains after 10N requests is what it retains after N,
// while its hashes, counts and totals are the full run's and its quantiles come from a bounded
// sketch within the documented error. Connections that open in turn
// (workload.open_connections) are let go when they end: memory is bounded by those open at once.
#define BOOST_TEST_MODULE run_memory
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/counting_allocator.h"
#include "sim/observer.h"
#include "sim/openssl_mem.h"
#include "sim/quantile_sketch.h"
#include "sim/scenario.h"
#include "sim/summary.h"
#include "sim/world.h"

namespace sim = emitlab::sim;

namespace {

sim::Scenario scenario(const std::string& json) {
  auto parsed = sim::parse_scenario(json);
  BOOST_REQUIRE_MESSAGE(parsed.scenario, parsed.error);
  return *parsed.scenario;
}

sim::RunResult run(const sim::Scenario& s, bool keep_history) {
  sim::RunOptions o;
  o.keep_bytes = false;
  o.keep_bodies = false;
  o.keep_history = keep_history;
  return sim::run_world(s, o);
}

// Every per-request or per-pass record the result holds, over the run and its connections.
std::uint64_t retained(const sim::RunResult& r) {
  std::uint64_t n = r.passes.size() + r.streams.size() + r.frames.size() + r.records.size();
  for (const auto& c : r.connections) {
    n += c.passes.size() + c.streams.size() + c.frames.size() + c.records.size();
  }
  return n;
}

// The exact upper bound of the sketch's error: never below, at most 1/128 above.
void within_sketch_error(std::uint64_t sketched, std::uint64_t exact) {
  BOOST_TEST(sketched >= exact);
  BOOST_TEST(static_cast<double>(sketched) <=
             static_cast<double>(exact) * (1.0 + 1.0 / sim::QuantileSketch::kSubBuckets));
}

std::string workload(std::uint32_t requests) {
  return R"({"strategy":"gather","workload":{"connections":2,"requests":)" +
         std::to_string(requests) +
         R"(,"body":[0,3000],"kinds":{"buffered":3,"streaming":1},"stream_chunk":[1,64]}})";
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_sketch_is_exact_below_256_and_within_1_in_128_above) {
  sim::QuantileSketch small;
  std::vector<std::uint64_t> small_values;
  for (std::uint64_t v = 0; v < 256; v += 3) {
    small.add(v);
    small_values.push_back(v);
  }
  const sim::Quantiles exact_small = sim::quantiles(small_values);
  BOOST_TEST(small.quantile(0.50) == exact_small.p50);
  BOOST_TEST(small.quantile(0.99) == exact_small.p99);

  sim::QuantileSketch forward;
  sim::QuantileSketch backward;
  std::vector<std::uint64_t> values;
  std::uint64_t x = 88172645463325252ULL;  // xorshift64: a spread over many octaves
  for (int i = 0; i < 5000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    values.push_back(x >> (x % 50));
  }
  for (auto v : values) forward.add(v);
  for (auto it = values.rbegin(); it != values.rend(); ++it) backward.add(*it);
  const sim::Quantiles exact = sim::quantiles(values);
  for (double p : {0.01, 0.25, 0.50, 0.90, 0.99, 1.0}) {
    std::vector<std::uint64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    const auto rank = std::clamp<std::size_t>(
        static_cast<std::size_t>(p * static_cast<double>(sorted.size()) + 0.999999), 1,
        sorted.size());
    within_sketch_error(forward.quantile(p), sorted[rank - 1]);
    BOOST_TEST(forward.quantile(p) == backward.quantile(p));  // order does not matter
  }
  BOOST_TEST(forward.quantile(0.50) != exact.p50);  // it is a sketch: this one is not exact
  BOOST_TEST(forward.max() == exact.max);
  BOOST_TEST(forward.count() == values.size());
  BOOST_TEST(forward.quantile(1.0) == exact.max);
  // Every bucket's highest value belongs to it, and the next value to the next bucket.
  for (std::size_t b = 0; b + 1 < sim::QuantileSketch::kBuckets; ++b) {
    const std::uint64_t hi = sim::QuantileSketch::highest_in(b);
    BOOST_TEST_REQUIRE(sim::QuantileSketch::bucket_of(hi) == b);
    BOOST_TEST_REQUIRE(sim::QuantileSketch::bucket_of(hi + 1) == b + 1);
  }
}

BOOST_AUTO_TEST_CASE(what_a_run_without_history_retains_does_not_grow_with_requests) {
  const auto n = run(scenario(workload(200)), false);
  const auto ten_n = run(scenario(workload(2000)), false);
  BOOST_TEST(n.ok());
  BOOST_TEST(ten_n.ok());
  BOOST_TEST(ten_n.responses_verified == 2000U);
  BOOST_TEST(ten_n.stats.passes > 10 * n.stats.passes / 2);  // the longer run did the work
  BOOST_TEST(retained(n) <= 16U);  // a pass or two and the last record per connection
  BOOST_TEST(retained(ten_n) == retained(n));
  // With history, the same runs keep every record: what the lean run must not do.
  const auto full = run(scenario(workload(200)), true);
  BOOST_TEST(retained(full) > 200U);
}

BOOST_AUTO_TEST_CASE(a_run_without_history_has_the_full_runs_hashes_counts_and_figures) {
  for (const char* strategy : {"drain", "gather", "hybrid", "gather+A1+A2+A3"}) {
    BOOST_TEST_CONTEXT(strategy) {
      const auto s = scenario(
          std::string(R"({"strategy":")") + strategy +
          R"(","workload":{"connections":3,"requests":150,"body":[0,40000],)"
          R"("kinds":{"buffered":2,"streaming":1,"head":1}},"peer":{"reset_permille":10}})");
      const auto lean = run(s, false);
      const auto full = run(s, true);
      BOOST_TEST(lean.wire_sha256() == full.wire_sha256());
      BOOST_TEST(lean.app_sha256() == full.app_sha256());
      BOOST_TEST(lean.choices.digest == full.choices.digest);
      BOOST_TEST(lean.responses_verified == full.responses_verified);
      BOOST_TEST(lean.responses_cancelled == full.responses_cancelled);
      BOOST_TEST(lean.stats.passes == full.passes.size());
      BOOST_TEST(lean.totals.tls_records == full.totals.tls_records);
      BOOST_TEST(lean.totals.ssl_writes == full.totals.ssl_writes);
      BOOST_TEST(lean.close_notify_is_last == full.close_notify_is_last);
      BOOST_TEST(lean.close_notify_is_last);
      const auto a = sim::summarize(lean);
      const auto b = sim::summarize(full);
      BOOST_TEST(a.passes == b.passes);
      BOOST_TEST(a.skipped_passes == b.skipped_passes);
      BOOST_TEST(a.emitter_allocs_per_pass_max == b.emitter_allocs_per_pass_max);
      BOOST_TEST(a.ttfb_ns.max == b.ttfb_ns.max);
      BOOST_TEST(a.ttlb_ns.mean == b.ttlb_ns.mean);
      // Against the exact figures of every record the full run kept.
      std::vector<std::uint64_t> allocs, first, last;
      for (const auto& p : full.passes) allocs.push_back(p.emitter_allocs());
      for (const auto& st : full.streams) {
        if (st.outcome != sim::StreamOutcome::Verified) continue;
        first.push_back(st.first_byte_at - st.requested_at);
        last.push_back(st.last_byte_at - st.requested_at);
      }
      BOOST_TEST(first.size() == full.responses_verified);
      const auto qa = sim::quantiles(allocs), qf = sim::quantiles(first), ql = sim::quantiles(last);
      BOOST_TEST(a.emitter_allocs_per_pass_p99 == qa.p99);  // exact below 256
      BOOST_TEST(a.emitter_allocs_per_pass_mean == qa.mean);
      within_sketch_error(a.ttfb_ns.p50, qf.p50);
      within_sketch_error(a.ttfb_ns.p99, qf.p99);
      within_sketch_error(a.ttlb_ns.p50, ql.p50);
      within_sketch_error(a.ttlb_ns.p99, ql.p99);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_allocator_without_pass_ledgers_keeps_two_and_the_same_totals) {
  const auto s = scenario(workload(300));
  sim::CountingAllocator lean_alloc(sim::CountingConfig{.keep_pass_ledgers = false});
  sim::CountingAllocator full_alloc;
  sim::RunOptions o;
  o.keep_history = false;
  o.counting = &lean_alloc;
  const auto lean = sim::run_world(s, o);
  o.keep_history = true;
  o.counting = &full_alloc;
  const auto full = sim::run_world(s, o);
  BOOST_TEST(lean.wire_sha256() == full.wire_sha256());
  for (std::uint32_t c = 0; c < 2; ++c) {
    BOOST_TEST(lean_alloc.passes(c).size() <= 2U);  // outside passes and the latest
    BOOST_TEST(full_alloc.passes(c).size() > 100U);
    const auto a = lean_alloc.for_connection(c), b = full_alloc.for_connection(c);
    BOOST_TEST(a.allocations == b.allocations);
    BOOST_TEST(a.frees == b.frees);
    BOOST_TEST(a.bytes_allocated == b.bytes_allocated);
    // The latest pass is the full ledger's latest.
    const auto last = full_alloc.passes(c).back();
    BOOST_TEST(lean_alloc.for_pass(c, last.pass).counts.allocations == last.counts.allocations);
  }
}

namespace {

// Connections open at once, at most, over the run (from the world's own start and end events),
// and the client's OpenSSL memory (not charged to any allocator) at each start.
struct OpenWatch final : sim::WorldObserver {
  std::uint32_t open = 0;
  std::uint32_t most_open = 0;
  std::uint32_t started = 0;
  std::uint64_t most_client_openssl = 0;
  void on_connection_start(std::uint64_t, std::uint32_t) override {
    ++started;
    most_open = std::max(most_open, ++open);
    most_client_openssl =
        std::max(most_client_openssl, sim::openssl_unattributed_stats().live_bytes);
  }
  void on_connection_end(std::uint64_t, std::uint32_t, bool) override { --open; }
};

struct InTurn {
  sim::RunResult run;
  std::uint64_t peak_server_bytes;  // the counting allocator's high-water mark (port + OpenSSL)
  OpenWatch watch;
};

InTurn run_in_turn(std::uint32_t connections, std::uint32_t open, bool keep_history) {
  const auto s =
      scenario(R"({"strategy":"hybrid","workload":{"connections":)" + std::to_string(connections) +
               R"(,"open_connections":)" + std::to_string(open) + R"(,"requests":)" +
               std::to_string(connections * 6) + R"(,"body":[0,20000]}})");
  sim::CountingAllocator counting(sim::CountingConfig{.keep_pass_ledgers = keep_history});
  InTurn r{};
  sim::RunOptions o;
  o.keep_bytes = keep_history;
  o.keep_bodies = keep_history;
  o.keep_history = keep_history;
  o.counting = &counting;
  o.observers.push_back(&r.watch);
  r.run = sim::run_world(s, o);
  r.peak_server_bytes = counting.total().peak_live_bytes;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(connections_open_in_turn_and_each_is_let_go_when_it_ends) {
  BOOST_TEST_REQUIRE((sim::openssl_mem_hooks() == sim::OpenSslHooks::Installed));
  const auto two = run_in_turn(2, 1, false);
  const auto forty = run_in_turn(40, 1, false);
  BOOST_TEST(two.run.ok(), two.run.failure);
  BOOST_TEST(forty.run.ok(), forty.run.failure);
  BOOST_TEST(forty.run.responses_verified == 240U);
  BOOST_TEST(forty.watch.started == 40U);
  BOOST_TEST(forty.watch.most_open == 1U);  // one at a time, as asked
  BOOST_TEST(forty.run.connections.size() == 40U);
  // Twenty times the connections, one open at a time: the high-water mark of what the server
  // side holds (rings, TLS, nghttp2, responses) and of the client's TLS stays that of two.
  // Kept instead of let go, forty connections hold about twenty times two's.
  BOOST_TEST(two.peak_server_bytes > 100'000U);
  BOOST_TEST(forty.peak_server_bytes < two.peak_server_bytes * 3 / 2);
  BOOST_TEST(two.watch.most_client_openssl > 0U);
  BOOST_TEST(forty.watch.most_client_openssl < two.watch.most_client_openssl * 3 / 2 + 100'000);
  // Three at a time: never more open, and the same bytes as with history kept.
  const auto lean = run_in_turn(12, 3, false);
  const auto full = run_in_turn(12, 3, true);
  BOOST_TEST(lean.watch.most_open == 3U);
  BOOST_TEST(full.watch.most_open == 3U);
  BOOST_TEST(lean.run.ok(), lean.run.failure);
  BOOST_TEST(lean.run.wire_sha256() == full.run.wire_sha256());
  BOOST_TEST(lean.run.app_sha256() == full.run.app_sha256());
  BOOST_TEST(lean.run.choices.digest == full.run.choices.digest);
  BOOST_TEST(lean.run.stats.passes == full.run.passes.size());
  BOOST_TEST(lean.run.totals.tls_records == full.run.totals.tls_records);
  // All at once (the default) is what open_connections >= connections gives.
  const auto all = run_in_turn(12, 0, false);
  const auto twelve = run_in_turn(12, 12, false);
  BOOST_TEST(all.watch.most_open == 12U);
  BOOST_TEST(all.run.wire_sha256() == twelve.run.wire_sha256());
  BOOST_TEST(all.run.wire_sha256() != lean.run.wire_sha256());  // in turn is another schedule
}

BOOST_AUTO_TEST_CASE(a_run_stopped_before_a_connections_turn_counts_its_requests_failed) {
  const auto s =
      scenario(R"({"workload":{"connections":5,"open_connections":1,"requests":50,"body":100}})");
  sim::RunOptions o;
  o.keep_history = false;
  o.max_events = 12;  // part of the first connection's handshake, no more
  const auto r = sim::run_world(s, o);
  BOOST_TEST_REQUIRE(r.connections.size() == 5U);
  BOOST_TEST(r.connections[4].failure.find("never opened") != std::string::npos);
  BOOST_TEST(r.connections[4].responses_failed == 10U);
  BOOST_TEST(r.responses_verified + r.responses_failed + r.responses_cancelled == 50U);
}
