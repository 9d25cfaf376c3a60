// Registration of every benchmark family, and the profile mode's replay loop.
#pragma once

#include <functional>
#include <string>

#include "bench/plan.h"

namespace emitlab::bench {

// emit/<strategy>/<shape>/<body>: the server side of a recorded run, replayed (bench_emit.cpp).
void register_emit(Scale scale);
// floor/<shape>/<body>: the same plaintext encrypted in full records, nothing else.
void register_floor(Scale scale);
// self/handshake: the deterministic handshake (bench_self.cpp).
void register_self(Scale scale);
// self/world/...: the deterministic world's own speed (bench_world.cpp).
void register_world(Scale scale);
// self/props/PROPERTY: the property suite's cases per second (bench_props.cpp).
void register_props(Scale scale);

// Replays `plan`'s timed phase `iterations` times, calling around(true) just before and
// around(false) just after each timed phase. Prints one line; returns 0, or 1 with a reason.
int replay_timed_phases(const Plan& plan, int iterations, const std::function<void(bool)>& around);

}  // namespace emitlab::bench
