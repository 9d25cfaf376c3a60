// Assertions that stay on in every build (release included): a broken precondition, postcondition
// or invariant of core, or a library result core cannot go on without, is a bug in emitlab, not
// an input to handle. The message names file, line and the expression; then the process aborts
// (so a test, the explorer and a sanitizer all stop at the first broken promise).
//
// What a peer or the world can cause is never asserted: it is a failure (FailureKind) or a rule
// violation (core/invariants.h), which the bug zoo's mutants must be able to reach.
#pragma once

namespace emitlab {

[[noreturn]] void assert_failed(const char* expression, const char* file, int line) noexcept;

}  // namespace emitlab

// The expression is always evaluated exactly once, so it may carry a call whose result it checks.
#define EMITLAB_ASSERT(expression)                               \
  do {                                                           \
    if (!(expression)) [[unlikely]] {                            \
      ::emitlab::assert_failed(#expression, __FILE__, __LINE__); \
    }                                                            \
  } while (false)
