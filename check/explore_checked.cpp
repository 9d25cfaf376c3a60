#include "check/explore_checked.h"

#include "sim/deterministic_tls.h"
#include "sim/replay.h"

namespace emitlab::check {

sim::ExploreLimits limits_of(const sim::Scope& scope) {
  sim::ExploreLimits l;
  l.bound = scope.bound;
  l.hold = scope.hold;
  return l;
}

sim::ExploreReport explore_checked(const ExploreRequest& request) {
  // One set of TLS contexts for the whole exploration, rewound to the seed for every run.
  sim::DeterministicTls tls(request.scenario.seed);
  auto run = [&](sim::Explorer::Source& source) {
    CheckOptions o = request.run;
    o.choices = &source;
    o.tls = &tls;
    o.keep_bytes = false;  // the rules read digests, records and bodies, not the streams
    o.token = false;       // encoded below for a violation only
    o.watch_steps = [&source](const StepChecker& steps) {
      source.set_checker_state([&steps] { return steps.state_digest(); });
    };
    const CheckedRun checked = run_checked(request.scenario, o);
    if (request.observe) request.observe(checked);
    sim::ScheduleVerdict v;
    if (checked.finding) {
      v.violation = true;
      v.rule = checked.finding->rule;
      v.detail = checked.finding->detail;
      v.token = sim::encode(sim::token_of(checked.result));
    }
    return v;
  };
  sim::Explorer explorer(request.limits, run, request.poll);
  return explorer.explore();
}

}  // namespace emitlab::check
