#include "sim/summary.h"

#include <algorithm>

namespace emitlab::sim {

Summary summarize(const RunResult& run) {
  Summary s;
  s.strategy = run.config.strategy.name();
  s.responses_verified = run.responses_verified;
  s.responses_failed = run.responses_failed;
  s.failure = run.failure;
  s.passes = run.passes.size();
  for (const auto& p : run.passes) {
    s.skipped_passes += p.skipped ? 1 : 0;
    s.emitter_allocs_per_pass_max =
        std::max<std::uint64_t>(s.emitter_allocs_per_pass_max, p.emitter_allocs());
  }
  const PassRecord& t = run.totals;
  s.ssl_writes = t.ssl_writes;
  s.tls_records = t.tls_records;
  s.write_submissions = t.write_submissions;
  s.parks = t.parks;
  s.emitter_allocs = t.emitter_allocs();
  s.emitter_frees = t.emitter_frees();
  s.emitter_allocs_per_pass_mean =
      s.passes == 0 ? 0.0 : static_cast<double>(s.emitter_allocs) / static_cast<double>(s.passes);
  s.ref_ops = t.ref_ops();
  s.objects_destroyed_in_passes = t.objects_destroyed;
  s.bytes_copied = t.copied_total();
  s.app_bytes = run.app.size();
  s.wire_bytes = run.wire.size();
  s.app_sha256 = sha256_hex(run.app);
  s.wire_sha256 = sha256_hex(run.wire);
  s.close_notify_last = run.close_notify_is_last;
  return s;
}

}  // namespace emitlab::sim
