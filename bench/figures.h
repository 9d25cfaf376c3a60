// The figures a benchmark reports, read from the server connections' PassRecords (nothing is
// counted here: records are only summed and differenced) plus the allocation deltas.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "bench/alloc_counts.h"
#include "core/pass_record.h"
#include "core/server_connection.h"

namespace emitlab::bench {

// What a connection had recorded when its timed phase began.
struct RecordMark {
  std::size_t passes = 0;
  PassRecord outside;
};
RecordMark mark(const ServerConnection& connection);

// The work of one phase: every pass it ran plus the work outside passes (completions' drains).
struct PhaseFigures {
  PassRecord work;
  std::uint64_t passes = 0;
  std::uint64_t skipped_passes = 0;    // gather's entry gate found a write in flight
  std::uint64_t fast_path_passes = 0;  // A2 wrote the pass from its single entry
  std::uint64_t wire_bytes = 0;        // ciphertext submitted to the transport

  PhaseFigures& operator+=(const PhaseFigures& other);
};
PhaseFigures since(const ServerConnection& connection, const RecordMark& start,
                   std::uint64_t wire_bytes);

// The first figure two runs of the same scenario disagree on, or empty: the replayed server
// must do exactly what the verified one did.
std::string first_difference(const PhaseFigures& a, const PhaseFigures& b);

// Sets every per-response and per-pass counter (names in bench/README section of the notes).
void set_counters(benchmark::State& state, const PhaseFigures& figures, const AllocDelta& allocs,
                  std::uint64_t responses);

}  // namespace emitlab::bench
