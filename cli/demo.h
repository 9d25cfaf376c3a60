// `emitlab demo`: the default strategies on two workloads where they differ (3-byte and 64 KiB
// bodies, c=10 m=32, closed loop), one compact table per workload, a verdict computed from
// every run and pair, the figures where the strategies differ most, and what to try next.
#pragma once

#include <cstdint>
#include <ostream>

#include "cli/comparison.h"

namespace emitlab::cli {

// Requests over every run of the demo (its progress line's total).
std::uint64_t demo_requests();
// Exit status: 0 when every response was verified and every promise held, else 1.
int cmd_demo(std::ostream& out, const Runner& run);

}  // namespace emitlab::cli
