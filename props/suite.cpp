#include "props/suite.h"

#include <array>
#include <exception>

namespace emitlab::props {
namespace {

// Tier 3 and the safety invariants: on every schedule, each stream delivers exactly what was
// submitted or ends in a reset the scenario caused, and every rule of props/checks.h holds at
// every step (one world run per case, every strategy, every peer behaviour).
rc::Gen<Case> any_case() {
  return gen_case(gen_strategy(), {});
}
rc::Gen<Case> hostile_case() {
  return gen_case(gen_strategy(), {.hostile = true});
}

// Tier 1: on input-independent scenarios (lockstep pacing, wide windows, no timing-dependent
// input), every strategy's decrypted TLS application stream is byte-identical to drain's.
rc::Gen<Case> lockstep_case() {
  return gen_case(gen_gather_family(), {.input_independent = true});
}

// Tier 2: under every schedule, strategies promised the same SSL_write calls (a base with its
// cap and threshold, with and without A1, A2, A3) make identical choices, write submissions,
// passes, ciphertext and application streams.
rc::Gen<Case> any_schedule_case() {
  return gen_case(gen_gather_family(), {});
}
rc::Gen<Case> hostile_schedule_case() {
  return gen_case(gen_gather_family(), {.hostile = true});
}

// Allocation properties, on scenarios with many passes per connection:
// drain passes make no emitter allocation and no reference operation; +A1 allocates only when
// a pass needs more than every earlier one (no allocation after its warm-up passes); +A3 makes
// reference operations only in passes where a stream starts or closes; without A1 a pass
// returns its scratch; every strategy frees everything by the end of the run; nghttp2's
// allocations counted by the pass records equal the allocator's. The campaign reports
// emitter, nghttp2 and OpenSSL allocations per pass for each base.
rc::Gen<Case> many_passes_case() {
  return gen_case(gen_strategy(), {.many_passes = true});
}

constexpr std::array kSuite{
    PropertyDef{"per_stream_delivery", 500, any_case, check_every_rule},
    PropertyDef{"safety_under_hostile_schedules", 500, hostile_case, check_every_rule},
    PropertyDef{"app_stream_equals_drain", 500, lockstep_case, check_app_stream},
    PropertyDef{"ciphertext_equal_across_track_a", 300, any_schedule_case, check_ciphertext},
    PropertyDef{"ciphertext_equal_under_hostile_schedules", 300, hostile_schedule_case,
                check_ciphertext},
    PropertyDef{"allocation_rules", 500, many_passes_case, check_every_rule},
};

}  // namespace

std::span<const PropertyDef> suite_properties() {
  return kSuite;
}

Verdict check_case(const PropertyDef& def, const Case& c) {
  try {
    return def.check(c);
  } catch (const std::exception& e) {
    Verdict v;
    v.finding = Finding{"exception", e.what()};
    return v;
  }
}

const PropertyDef* find_suite_property(std::string_view name) {
  for (const PropertyDef& def : kSuite) {
    if (name == def.name) return &def;
  }
  return nullptr;
}

}  // namespace emitlab::props
