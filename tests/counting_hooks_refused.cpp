// A process of its own (CTest: counting_hooks_refused): OpenSSL allocates before the memory
// hooks are installed, so OpenSSL refuses them; counting must then say OpenSSL is not counted
// instead of reporting zero OpenSSL allocations, and the early block must still free normally.
#include <openssl/crypto.h>

#include <cstdio>

#include "sim/counting_allocator.h"
#include "sim/openssl_mem.h"

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "counting_hooks_refused: FAILED: %s\n", what);
  ++failures;
}

}  // namespace

int main() {
  namespace sim = emitlab::sim;
  void* early = OPENSSL_malloc(16);  // OpenSSL's first allocation in this process
  check(sim::install_openssl_mem_hooks() == sim::OpenSslHooks::Refused, "install is refused");
  check(sim::openssl_mem_hooks() == sim::OpenSslHooks::Refused, "the state says refused");
  check(sim::install_openssl_mem_hooks() == sim::OpenSslHooks::Refused, "a refusal is final");
  {
    sim::CountingAllocator counting;
    check(!counting.openssl_counted(), "the allocator reports OpenSSL as not counted");
    {
      sim::OpenSslAttribution scope(counting, 0, 1);
      check(!scope.active(), "the scope is inert");
      OPENSSL_free(OPENSSL_malloc(32));
    }
    check(counting.total().allocations == 0, "nothing was charged");
  }
  OPENSSL_free(early);  // OpenSSL's own free: the block never meets a hook
  return failures == 0 ? 0 : 1;
}
