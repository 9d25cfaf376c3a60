#include "sim/summary.h"

#include <algorithm>
#include <numeric>

#include "sim/replay.h"

namespace emitlab::sim {
namespace {

double ratio(double a, double b) {
  return b == 0 ? 0.0 : a / b;
}

// From the running statistics (sim/run_stats.h), so a run that kept no history has the same
// figures: the means and maxima exact, p50 and p99 within the sketch's 1/128 above exact.
Quantiles from_sketch(const QuantileSketch& q) {
  return {q.mean(), q.quantile(0.50), q.quantile(0.99), q.max()};
}

}  // namespace

Quantiles quantiles(std::vector<std::uint64_t> v) {
  Quantiles q;
  if (v.empty()) return q;
  std::sort(v.begin(), v.end());
  const auto rank = [&](double p) {
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size()) + 0.999999);
    return v[std::clamp<std::size_t>(i, 1, v.size()) - 1];
  };
  q.mean = static_cast<double>(std::accumulate(v.begin(), v.end(), std::uint64_t{0})) /
           static_cast<double>(v.size());
  q.p50 = rank(0.50);
  q.p99 = rank(0.99);
  q.max = v.back();
  return q;
}

Summary summarize(const RunResult& run) {
  Summary s;
  const Scenario& sc = run.scenario;
  s.strategy = sc.strategy.name();
  s.mutant = std::string(to_string(sc.mutant));
  s.pacing = std::string(to_string(sc.workload.pacing));
  s.input_independent = sc.input_independent();
  s.connections = sc.workload.connections;
  s.requests = sc.workload.requests;
  s.responses_verified = run.responses_verified;
  s.responses_failed = run.responses_failed;
  s.responses_cancelled = run.responses_cancelled;
  s.connections_failed = run.connections_failed;
  s.failure = run.failure;
  s.interrupted = run.interrupted;
  s.passes = run.stats.passes;
  s.skipped_passes = run.stats.skipped_passes;
  const Quantiles allocs = from_sketch(run.stats.emitter_allocs_per_pass);
  s.emitter_allocs_per_pass_mean = allocs.mean;
  s.emitter_allocs_per_pass_p99 = allocs.p99;
  s.emitter_allocs_per_pass_max = allocs.max;
  const double responses = static_cast<double>(run.responses_verified);
  s.passes_per_response = ratio(static_cast<double>(s.passes), responses);
  const PassRecord& t = run.totals;
  s.ssl_writes = t.ssl_writes;
  s.tls_records = t.tls_records;
  s.undersized_records = t.undersized_records;
  s.write_submissions = t.write_submissions;
  s.records_per_submission = ratio(t.tls_records, t.write_submissions);
  s.parks = t.parks;
  s.emitter_allocs = t.emitter_allocs();
  s.emitter_frees = t.emitter_frees();
  const AllocationFigures& a = run.allocations;
  s.allocations_counted = a.counted;
  s.openssl_counted = a.openssl_counted;
  for (std::size_t i = 0; i < kAllocOwners; ++i) {
    s.allocs_per_response[i] = ratio(static_cast<double>(a.by_owner[i]), responses);
  }
  s.alloc_violations = a.violations;
  s.leaked_blocks = a.leaked_blocks;
  s.ref_ops = t.ref_ops();
  s.ref_ops_per_pass = ratio(static_cast<double>(s.ref_ops), static_cast<double>(s.passes));
  s.objects_destroyed_in_passes = t.objects_destroyed;
  s.bytes_copied = t.copied_total();
  s.bytes_copied_per_response = ratio(static_cast<double>(s.bytes_copied), responses);
  for (std::size_t i = 0; i < kCopySites; ++i) {
    s.copied_per_response[i] = ratio(static_cast<double>(t.copied[i]), responses);
  }
  for (const auto& c : run.connections) {
    if (s.peer_verdict == "completed" && c.verdict != PeerVerdict::Completed &&
        c.verdict != PeerVerdict::Aborted) {
      s.peer_verdict = std::string(to_string(c.verdict));
    }
    s.app_bytes += c.app_bytes;
    s.wire_bytes += c.wire_bytes;
    s.pings_sent += c.pings_sent;
    s.pings_acked += c.pings_acked;
  }
  s.wire_overhead_bytes = s.wire_bytes > s.app_bytes ? s.wire_bytes - s.app_bytes : 0;
  s.wire_overhead =
      ratio(static_cast<double>(s.wire_overhead_bytes), static_cast<double>(s.app_bytes));
  s.ttfb_ns = from_sketch(run.stats.ttfb_ns);
  s.ttlb_ns = from_sketch(run.stats.ttlb_ns);
  s.virtual_ns = run.virtual_ns;
  s.events = run.events;
  s.choices = run.choices.count;
  s.close_notify_last = run.close_notify_is_last;
  if (!run.connections.empty()) {
    s.app_sha256 = run.app_sha256();
    s.wire_sha256 = run.wire_sha256();
  }
  s.replay = encode(token_of(run));
  return s;
}

}  // namespace emitlab::sim
