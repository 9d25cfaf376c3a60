#include "core/assert.h"

#include <cstdio>
#include <cstdlib>

namespace emitlab {

void assert_failed(const char* expression, const char* file, int line) noexcept {
  std::fprintf(stderr, "%s:%d: emitlab assertion failed: %s\n", file, line, expression);
  std::fflush(stderr);
  std::abort();
}

}  // namespace emitlab
