// Tier 2: under every schedule, strategies promised the same SSL_write calls (a base with its
// cap and threshold, with and without A1, A2, A3) make identical choices, write submissions,
// passes, ciphertext and application streams.
#include "props/runner.h"

namespace emitlab::props {
namespace {

rc::Gen<Case> any_schedule_case() {
  return gen_case(gen_gather_family(), {});
}
rc::Gen<Case> hostile_schedule_case() {
  return gen_case(gen_gather_family(), {.hostile = true});
}

}  // namespace

EMITLAB_PROP(ciphertext_equal_across_track_a, 300, any_schedule_case, check_ciphertext)
EMITLAB_PROP(ciphertext_equal_under_hostile_schedules, 300, hostile_schedule_case, check_ciphertext)

}  // namespace emitlab::props
