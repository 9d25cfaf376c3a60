// Tier 1: every strategy's application stream equals drain's on input-independent scenarios
// (generator and check: props/suite.cpp).
#include "props/runner.h"

EMITLAB_SUITE_PROP(app_stream_equals_drain)
