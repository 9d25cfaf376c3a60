// The properties' checks: what each runs and what it asserts, on a generated
// case. The runs and the rules are check/'s (shared with the explorer); this file resolves the
// case's test emitter, which only a props binary can register.
#pragma once

#include <string>

#include "check/checked_run.h"
#include "props/checks.h"
#include "props/gen.h"
#include "sim/world.h"

namespace emitlab::props {

using check::CheckedRun;
using check::Verdict;

// One world run of a scenario, checked against every rule; `emitter` names a registered test
// emitter (empty: core's strategy).
CheckedRun run_checked(const sim::Scenario& scenario, const std::string& emitter = {});

// Tier 3 and the safety, liveness and allocation rules: one run, every rule.
Verdict check_every_rule(const Case& c);
// Tier 1 (check::check_app_stream) on the case.
Verdict check_app_stream(const Case& c);
// Tier 2 (check::check_ciphertext) on the case.
Verdict check_ciphertext(const Case& c);

}  // namespace emitlab::props
