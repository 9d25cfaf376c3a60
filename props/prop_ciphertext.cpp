// Tier 2: identical SSL_write calls and ciphertext across A1, A2, A3 under every schedule,
// hostile ones included (generators and checks: props/suite.cpp).
#include "props/runner.h"

EMITLAB_SUITE_PROP(ciphertext_equal_across_track_a)
EMITLAB_SUITE_PROP(ciphertext_equal_under_hostile_schedules)
