// The property suite: every property props/ runs, with its generator, its check and its default
// budget, in one table. The props_* binaries run each as a Boost test case (props/runner.h);
// bench/bench_props.cpp measures each one's cases per second. Properties defined by a test
// binary alone (strategies broken on purpose) are registered there, not here.
#pragma once

#include <span>
#include <string_view>

#include "props/gen.h"
#include "props/tiers.h"

namespace emitlab::props {

struct PropertyDef {
  const char* name;  // [a-z0-9_]: the Boost test case name and the replay token's key
  int base_cases;    // default budget (scaled by EMITLAB_PROPS_SCALE)
  rc::Gen<Case> (*gen)();
  Verdict (*check)(const Case&);
};

// The suite's properties, in the order the README lists them.
std::span<const PropertyDef> suite_properties();
const PropertyDef* find_suite_property(std::string_view name);

// The property's check on one case. An exception (none is expected: the world reports what
// fails) becomes the case's finding, so that it is shrunk, printed and timed like any other.
Verdict check_case(const PropertyDef& def, const Case& c);

}  // namespace emitlab::props
