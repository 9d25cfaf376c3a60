// RapidCheck generators for whole scenarios.
//
// Shrinking is what makes a failure readable, so every choice here is built to shrink toward
// the simplest scenario: RapidCheck's gen::element, weightedElement and oneOf never shrink the
// choice they made, so every alternative is picked by an index drawn with gen::inRange, which
// shrinks toward 0, and the first alternative of every list is the simple one (one connection,
// few requests, body 0, no peer behaviour, default link and rings, strategy `gather`).
// Quantities grow with RapidCheck's size (small scenarios come first in a campaign).
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <iosfwd>
#include <string>

#include "core/strategy.h"
#include "sim/scenario.h"

namespace emitlab::props {

// The input of a property: a scenario, and the emitter that runs it.
struct Case {
  sim::Scenario scenario;
  // Empty: the scenario's strategy, built by core. Otherwise the name of an emitter registered
  // by the test binary (props/runner.h, EmitterRegistration), built from the scenario's strategy
  // spec.
  std::string emitter;
};
void showValue(const Case& c, std::ostream& os);

struct ScenarioShape {
  // Lockstep pacing, wide windows, no PING/RST/GOAWAY/abrupt close, no handler delay and no
  // streaming body: the server's output cannot depend on timing (Scenario::input_independent).
  bool input_independent = false;
  // Biased toward what stresses the safety rules: one-record cipher rings, small link buffers,
  // pauses, synchronous and mixed completions, stingy and withheld windows.
  bool hostile = false;
  // Many small requests per connection: many passes, so A1's warm-up ends and steady state
  // shows (the allocation properties).
  bool many_passes = false;
};

// Every base and option combination, caps from 4 KiB to 256 KiB, hybrid thresholds around the
// body edges. Shrinks toward `gather` with no option and the default cap.
rc::Gen<StrategySpec> gen_strategy();
// gather or hybrid only (what A1/A2/A3 apply to).
rc::Gen<StrategySpec> gen_gather_family();
// Strategies whose options were A3 with the per-stream reference (what the broken-release test
// emitter needs): gather+A3 with any cap and A1/A2.
rc::Gen<StrategySpec> gen_gather_a3();

rc::Gen<sim::Scenario> gen_scenario(rc::Gen<StrategySpec> strategy, ScenarioShape shape);
rc::Gen<Case> gen_case(rc::Gen<StrategySpec> strategy, ScenarioShape shape,
                       std::string emitter = {});

// The largest response bodies a generated scenario carries, in bytes over all its connections
// (keeps one case to milliseconds).
inline constexpr std::uint64_t kBodyBudget = std::uint64_t{3} << 20;

}  // namespace emitlab::props

namespace emitlab::sim {
// RapidCheck prints counterexamples with showValue (found by argument-dependent lookup).
void showValue(const Scenario& s, std::ostream& os);
}  // namespace emitlab::sim

namespace emitlab {
void showValue(const StrategySpec& s, std::ostream& os);
}  // namespace emitlab
