// The allocation properties on scenarios with many passes per connection (generator and check:
// props/suite.cpp).
#include "props/runner.h"

EMITLAB_SUITE_PROP(allocation_rules)
