// The explorer with every rule: each schedule of a scope is a checked run
// (check/checked_run.h), its step checker's state joins the world's in the pruning key, and
// the first broken rule is the schedule's violation.
#pragma once

#include <functional>
#include <string>

#include "check/checked_run.h"
#include "sim/explore.h"
#include "sim/scope.h"

namespace emitlab::check {

struct ExploreRequest {
  sim::Scenario scenario;  // the scope's, with the strategy to explore
  sim::ExploreLimits limits;
  CheckOptions run;  // a test emitter, if any (choices and tls are the explorer's)
  sim::Explorer::Poll poll;
  // Called with every run's checked result, in order (tests compare two explorations with it).
  std::function<void(const CheckedRun&)> observe;
};
sim::ExploreReport explore_checked(const ExploreRequest& request);

// The limits a scope sets (its bound and held labels).
sim::ExploreLimits limits_of(const sim::Scope& scope);

}  // namespace emitlab::check
