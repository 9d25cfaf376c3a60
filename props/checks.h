// The rules every property run is checked against live in check/ (shared with the explorer);
// props names them here.
#pragma once

#include "check/rules.h"

namespace emitlab::props {

using check::alloc_report;
using check::AllocReport;
using check::check_run;
using check::event_bound;
using check::Finding;
using check::liveness_bound_ns;
using check::StepChecker;

}  // namespace emitlab::props
