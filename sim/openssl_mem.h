// OpenSSL's allocations, observed through CRYPTO_set_mem_functions and charged to a
// CountingAllocator (sim/counting_allocator.h).
//
// Installing: the hooks are process-wide and OpenSSL accepts them only before its first
// allocation, so install_openssl_mem_hooks() must run before any other OpenSSL call in the
// process: first thing in main() of every binary that counts, or, where a framework owns main
// (Boost.Test), by linking the CMake object library `emitlab_openssl_mem_autoinstall`, whose
// static initializer installs them before main. If OpenSSL refuses (it already allocated), the
// hooks stay off, the state says Refused, and every CountingAllocator reports
// openssl_counted() == false instead of showing zero OpenSSL allocations as if they were true.
// Because OpenSSL refuses after its first allocation, no block allocated before installation
// can ever reach the hooks' free.
//
// Attribution: an OpenSslAttribution scope (thread-local, nestable) charges the OpenSSL
// allocations made on its thread while it lives to (allocator, connection, pass). Outside any
// scope OpenSSL is served by malloc behind the same header, marked unattributed. Frees and
// reallocs are routed by the block's header, never by the current scope: memory allocated under
// one scope may be freed under another or none, and a block whose allocator is gone is simply
// freed. With the hooks installed and no CountingAllocator alive, everything is unattributed.
#pragma once

#include <cstdint>
#include <string_view>

namespace emitlab::sim {

class CountingAllocator;

enum class OpenSslHooks : std::uint8_t {
  NotInstalled,  // install_openssl_mem_hooks() was never called
  Installed,
  Refused,  // CRYPTO_set_mem_functions returned 0: OpenSSL had already allocated
};
std::string_view to_string(OpenSslHooks state);

// Idempotent; returns the resulting state (a refusal is final).
OpenSslHooks install_openssl_mem_hooks();
OpenSslHooks openssl_mem_hooks();

// What went through the hooks outside every allocator.
struct OpenSslUnattributedStats {
  std::uint64_t allocations = 0;
  std::uint64_t frees = 0;
  std::uint64_t live_bytes = 0;
  std::uint64_t orphan_frees = 0;     // blocks freed after their allocator was destroyed
  std::uint64_t corrupt_headers = 0;  // frees of a block whose header was overwritten (leaked)
};
OpenSslUnattributedStats openssl_unattributed_stats();

// Frees the calling thread's OpenSSL state (OPENSSL_thread_stop: the error queue and the data
// buffers OpenSSL keeps in it for the thread's lifetime; it is rebuilt on next use). Call it
// before and after a counted run: otherwise a buffer OpenSSL cached while a scope was active
// outlives the run and is reported as the connection's leak, and whether the next run has to
// build the state changes its allocation count.
void release_openssl_thread_state();

// While it lives, OpenSSL allocations on this thread are charged to (counting, connection,
// pass). The allocator must outlive the scope. Inert (active() == false) when the hooks are
// not installed or the allocator cannot be reached from the hooks.
class OpenSslAttribution {
 public:
  OpenSslAttribution(CountingAllocator& counting, std::uint32_t connection, std::uint64_t pass);
  ~OpenSslAttribution();
  OpenSslAttribution(const OpenSslAttribution&) = delete;
  OpenSslAttribution& operator=(const OpenSslAttribution&) = delete;

  bool active() const { return active_; }
  CountingAllocator& counting() const { return *counting_; }
  std::uint32_t connection() const { return connection_; }
  std::uint64_t pass() const { return pass_; }

 private:
  CountingAllocator* counting_;
  std::uint32_t connection_;
  std::uint64_t pass_;
  const OpenSslAttribution* previous_;
  bool active_;
};

// Suspends attribution on this thread while it lives (for example around a simulated peer's
// OpenSSL calls made from inside a server's scope, such as a synchronous write completion).
class OpenSslUnattributed {
 public:
  OpenSslUnattributed();
  ~OpenSslUnattributed();
  OpenSslUnattributed(const OpenSslUnattributed&) = delete;
  OpenSslUnattributed& operator=(const OpenSslUnattributed&) = delete;

 private:
  const OpenSslAttribution* previous_;
};

}  // namespace emitlab::sim
