// The figures of one run (one strategy), computed from its pass records, the counting
// allocator and the peers' recordings. Everything here is a function of the run except
// cpu_seconds and responses_per_cpu_second, which the CLI measures on the host and keeps apart
// from every comparison.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/allocator.h"
#include "core/pass_record.h"
#include "sim/world.h"

namespace emitlab::sim {

struct Quantiles {
  double mean = 0;
  std::uint64_t p50 = 0;
  std::uint64_t p99 = 0;
  std::uint64_t max = 0;
};
Quantiles quantiles(std::vector<std::uint64_t> values);  // nearest rank

struct Summary {
  std::string strategy;
  std::string mutant;  // the bug zoo's fault point armed in the run, "none" normally
  std::string pacing;
  bool input_independent = false;
  std::uint32_t connections = 0;
  std::uint64_t requests = 0;
  std::uint64_t responses_verified = 0;
  std::uint64_t responses_failed = 0;
  std::uint64_t responses_cancelled = 0;  // given up by the peer (its RST, GOAWAY or close)
  std::uint64_t connections_failed = 0;
  std::string failure;
  // The peers' verdict: "completed" when every connection completed (or was aborted on
  // purpose), else the first other connection's (defended, failed, stalled).
  std::string peer_verdict = "completed";
  bool interrupted = false;  // stopped by a signal: the figures are of what ran until then
  std::uint64_t passes = 0;
  std::uint64_t skipped_passes = 0;
  double passes_per_response = 0;
  std::uint64_t ssl_writes = 0;
  std::uint64_t tls_records = 0;
  std::uint64_t undersized_records = 0;  // PassRecord::undersized_records over every pass
  std::uint64_t write_submissions = 0;
  double records_per_submission = 0;
  std::uint64_t parks = 0;
  double emitter_allocs_per_pass_mean = 0;
  std::uint64_t emitter_allocs_per_pass_p99 = 0;
  std::uint64_t emitter_allocs_per_pass_max = 0;
  std::uint64_t emitter_allocs = 0;
  std::uint64_t emitter_frees = 0;
  bool allocations_counted = false;
  bool openssl_counted = false;
  std::array<double, kAllocOwners> allocs_per_response{};  // by owner (AllocOwner order)
  std::uint64_t alloc_violations = 0;
  std::uint64_t leaked_blocks = 0;
  std::uint64_t ref_ops = 0;
  double ref_ops_per_pass = 0;
  std::uint64_t objects_destroyed_in_passes = 0;
  std::uint64_t bytes_copied = 0;
  double bytes_copied_per_response = 0;
  std::array<double, kCopySites> copied_per_response{};  // by site (CopySite order)
  std::uint64_t app_bytes = 0;
  std::uint64_t wire_bytes = 0;
  std::uint64_t wire_overhead_bytes = 0;  // wire - application: TLS records and handshake
  double wire_overhead = 0;               // wire / application - 1
  // Verified streams; p50 and p99 from a bounded sketch: at most 1/128 above the exact value
  // (sim/quantile_sketch.h), mean and max exact. So are emitter_allocs_per_pass_* (exact below
  // 256 allocations per pass).
  Quantiles ttfb_ns;  // request sent -> first response byte, per stream
  Quantiles ttlb_ns;  // request sent -> stream closed, per stream
  std::uint64_t virtual_ns = 0;
  std::uint64_t events = 0;
  std::uint64_t choices = 0;
  std::uint64_t pings_sent = 0;
  std::uint64_t pings_acked = 0;
  bool close_notify_last = false;
  std::string app_sha256;
  std::string wire_sha256;
  std::string replay;  // the replay token
  // Measured by the CLI on the host; never part of a comparison.
  double cpu_seconds = 0;
  double responses_per_cpu_second = 0;
};

Summary summarize(const RunResult& run);

}  // namespace emitlab::sim
