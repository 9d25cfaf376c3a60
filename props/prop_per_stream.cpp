// Tier 3 and the safety invariants on every schedule (generators and checks: props/suite.cpp).
#include "props/runner.h"

EMITLAB_SUITE_PROP(per_stream_delivery)
EMITLAB_SUITE_PROP(safety_under_hostile_schedules)
