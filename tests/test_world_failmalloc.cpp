// Allocation failure at every allocation index of a small scenario, as nghttp2's failmalloc
// tests do: each run fails the n-th counted allocation (emitter, nghttp2, response bodies, and
// the server's OpenSSL work) and must end cleanly: no crash or sanitizer report, no hang, no
// leaked block, no double free, no response reported delivered unless every byte arrived, and
// a failure reported whenever a response is missing.
#define BOOST_TEST_MODULE world_failmalloc
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "sim/counting_allocator.h"
#include "sim/openssl_mem.h"
#include "sim/world.h"

namespace sim = emitlab::sim;

// OpenSSL 3.0 itself leaks a few dozen bytes when some of its small allocations fail during the
// first handshake of a fresh library context and it carries on (the failure is absorbed and
// the run succeeds): 9 of the ~1100 indices of each sweep. Those blocks are OpenSSL's, so
// LeakSanitizer is told to ignore blocks allocated inside libcrypto, in this binary only. The
// world's own blocks (emitter, nghttp2, response bodies) are checked after every run below.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libcrypto.so\n";
}

namespace {

sim::Scenario small(const char* strategy) {
  sim::Scenario s;
  s.seed = 23;
  s.strategy = *emitlab::parse_strategy(strategy).spec;
  s.workload.requests = 4;
  s.workload.concurrency = 2;
  s.workload.pacing = sim::Pacing::ClosedLoop;
  s.workload.body = {1000, 20000};
  s.workload.kinds = {2, 1, 0, 1, 0};  // buffered, streaming and empty responses
  s.workload.trailers_permille = 500;
  s.link.completions = sim::CompletionMode::Mixed;
  return s;
}

sim::RunResult run(const sim::Scenario& s, sim::CountingAllocator& counting) {
  sim::RunOptions o;
  o.counting = &counting;
  o.max_events = 1'000'000;
  return sim::run_world(s, o);
}

std::string how(const sim::RunResult& r) {
  if (r.ok()) return "absorbed";
  const auto colon = r.failure.find(':');
  return r.failure.substr(0, colon == std::string::npos ? 40 : colon);
}

void sweep(const char* strategy) {
  const sim::Scenario s = small(strategy);
  {
    sim::CountingAllocator warm;  // process-wide lazy initialisation happens here, once
    run(s, warm);
  }
  sim::CountingAllocator clean_counting;
  const auto clean = run(s, clean_counting);
  BOOST_REQUIRE_MESSAGE(clean.ok(), clean.failure);
  const std::uint64_t attempts = clean_counting.allocations_so_far();
  BOOST_TEST_MESSAGE(strategy << ": " << attempts << " allocations swept");
  BOOST_REQUIRE(attempts > 100U);
  std::map<std::string, std::uint64_t> outcomes;
  for (std::uint64_t n = 1; n <= attempts; ++n) {
    sim::CountingAllocator counting;
    counting.fail_at(n);
    const auto r = run(s, counting);
    BOOST_TEST_CONTEXT(strategy << " fail_at(" << n << "): " << r.allocations.injected_failure
                                << " -> " << (r.ok() ? "ok" : r.failure)) {
      BOOST_TEST(!r.allocations.injected_failure.empty());
      BOOST_TEST(r.allocations.violations == 0U);
      BOOST_TEST(r.allocations.leaked_blocks == 0U);
      BOOST_TEST(r.failure.find("did not settle") == std::string::npos);
      // Delivered means every byte: the peer verified each stream it counts.
      std::size_t verified = 0;
      for (const auto& st : r.streams) verified += st.outcome == sim::StreamOutcome::Verified;
      BOOST_TEST(verified == r.responses_verified);
      // A missing response is reported: as failed, and the run is not ok.
      BOOST_TEST(r.responses_verified + r.responses_failed + r.responses_cancelled ==
                 s.workload.requests);
      if (r.responses_verified < s.workload.requests) BOOST_TEST(!r.ok());
    }
    ++outcomes[how(r)];
  }
  for (const auto& [what, count] : outcomes) BOOST_TEST_MESSAGE("  " << count << " x " << what);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_allocation_fails_once_in_a_gather_world) {
  sweep("gather");
}
BOOST_AUTO_TEST_CASE(every_allocation_fails_once_in_a_drain_world) {
  sweep("drain");
}
