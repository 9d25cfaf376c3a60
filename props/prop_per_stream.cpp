// Tier 3 and the safety invariants: on every schedule, each stream delivers exactly what was
// submitted or ends in a reset the scenario caused, and every rule of props/checks.h holds at
// every step (one world run per case, every strategy, every peer behaviour).
#include "props/runner.h"

namespace emitlab::props {
namespace {

rc::Gen<Case> any_case() {
  return gen_case(gen_strategy(), {});
}
rc::Gen<Case> hostile_case() {
  return gen_case(gen_strategy(), {.hostile = true});
}

}  // namespace

EMITLAB_PROP(per_stream_delivery, 500, any_case, check_every_rule)
EMITLAB_PROP(safety_under_hostile_schedules, 500, hostile_case, check_every_rule)

}  // namespace emitlab::props
