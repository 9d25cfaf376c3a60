// The deterministic cost run of one benchmark (--emitlab_counts=NAME): its timed phase replayed
// under valgrind's callgrind with instrumentation and collection on only around it, so the
// instruction and simulated cache counts of that phase alone land in callgrind's output file.
// bench/counts.py runs one process per benchmark and reads those files.
#pragma once

#include <string>

#include "bench/plan.h"

namespace emitlab::bench {

// NAME (padded with trailing spaces) is emit/STRATEGY/SHAPE/BODY or floor/SHAPE/BODY, as the
// benchmarks are named. Prepares the plan (verified run, checking replay) uninstrumented, then
// replays the timed phase twice: once instrumented but not collected (the code and shared state
// warm, as in a timed iteration), once collected. Prints one JSON line (name, responses, requests
// per connection) on stdout. Returns 0; 1 when the plan failed or the replay differed; 2 for a bad
// NAME.
int run_counts(const std::string& padded, Scale scale);

}  // namespace emitlab::bench
