// Running statistics of one run, fed as passes end and streams close, so the summary needs
// neither every PassRecord nor every StreamResult (RunOptions::keep_history = false keeps them
// bounded). Counts are exact; the distributions are bounded sketches (sim/quantile_sketch.h).
// The world owns one for all its connections: a sketch per connection would cost 10,000 x 59 KB.
#pragma once

#include <cstdint>

#include "core/pass_record.h"
#include "sim/quantile_sketch.h"
#include "sim/sim_peer.h"

namespace emitlab::sim {

struct RunStats {
  std::uint64_t passes = 0;
  std::uint64_t skipped_passes = 0;
  QuantileSketch emitter_allocs_per_pass;
  QuantileSketch ttfb_ns;  // verified streams: request sent -> first response byte
  QuantileSketch ttlb_ns;  // verified streams: request sent -> stream closed

  void on_pass(const PassRecord& p) {
    ++passes;
    skipped_passes += p.skipped ? 1 : 0;
    emitter_allocs_per_pass.add(p.emitter_allocs());
  }
  void on_stream_done(const StreamResult& s) {
    if (s.outcome != StreamOutcome::Verified) return;
    ttfb_ns.add(s.first_byte_at - s.requested_at);
    ttlb_ns.add(s.last_byte_at - s.requested_at);
  }
};

}  // namespace emitlab::sim
