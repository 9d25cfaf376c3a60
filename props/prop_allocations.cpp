// Allocation properties (issue 5, item 4), on scenarios with many passes per connection:
// drain passes make no emitter allocation and no reference operation; +A1 allocates only when
// a pass needs more than every earlier one (no allocation after its warm-up passes); +A3 makes
// reference operations only in passes where a stream starts or closes; without A1 a pass
// returns its scratch; every strategy frees everything by the end of the run; nghttp2's
// allocations counted by the pass records equal the allocator's. The campaign reports
// emitter, nghttp2 and OpenSSL allocations per pass for each base.
#include "props/runner.h"

namespace emitlab::props {
namespace {

rc::Gen<Case> many_passes_case() {
  return gen_case(gen_strategy(), {.many_passes = true});
}

}  // namespace

EMITLAB_PROP(allocation_rules, 500, many_passes_case, check_every_rule)

}  // namespace emitlab::props
