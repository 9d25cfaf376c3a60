// Tier 1: on input-independent scenarios (lockstep pacing, wide windows, no timing-dependent
// input), every strategy's decrypted TLS application stream is byte-identical to drain's.
#include "props/runner.h"

namespace emitlab::props {
namespace {

rc::Gen<Case> lockstep_case() {
  return gen_case(gen_gather_family(), {.input_independent = true, .drain_reference = true});
}

}  // namespace

EMITLAB_PROP(app_stream_equals_drain, 500, lockstep_case, check_app_stream)

}  // namespace emitlab::props
