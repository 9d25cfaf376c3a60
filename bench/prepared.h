// The untimed part of an emit benchmark, done once per plan and cached: a verified run with
// real simulated peers that records the client side, then one replay that must reproduce it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/alloc_counts.h"
#include "bench/figures.h"
#include "bench/fleet.h"
#include "bench/plan.h"

namespace emitlab::bench {

struct Prepared {
  Plan plan;
  std::string error;  // empty: verified, and the replay reproduced it
  Recording recording;
  PhaseFigures figures;                  // timed phase (requests), summed over connections
  std::vector<std::uint64_t> app_bytes;  // timed-phase plaintext per connection (the floor)
  AllocDelta allocs;                     // timed-phase allocations of the checking replay
};

// Records (with SimPeers: every response verified byte for byte, the counting allocator's
// poisoning quarantine armed) and checks the replay; cached by plan name.
const Prepared& prepare(const Plan& plan);
void clear_prepared();

// Builds a fleet for `recording` and replays its handshakes (untimed in every caller), leaving
// every connection marked at the start of its timed phase. Rewinds the server's random stream.
std::unique_ptr<Fleet> replay_handshakes(const Plan& plan, const Recording& recording,
                                         BenchAllocator& port, bool hash, std::string* error);

}  // namespace emitlab::bench
