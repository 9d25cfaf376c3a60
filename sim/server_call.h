// A call into one of the world's server connections: while it lives, OpenSSL's allocations are
// charged to the connection, and to the pass that runs inside the call (begin_pass). Scopes must
// end in reverse order, so the call that saw a pass begin also ends its scope if the pass did
// not finish normally.
#pragma once

#include <cstdint>
#include <optional>

#include "sim/openssl_mem.h"

namespace emitlab::sim {

class CountingAllocator;

// What the calls into one connection share.
struct ServerCalls {
  ServerCalls(CountingAllocator& counting, std::uint32_t connection)
      : counting(&counting), connection(connection) {}
  bool active() const { return depth > 0; }
  // Core opened a pass's record (from inside a call); end_pass() when it closes.
  void begin_pass(std::uint64_t pass) { pass_scope.emplace(*counting, connection, pass); }
  void end_pass() { pass_scope.reset(); }

  CountingAllocator* counting;
  std::uint32_t connection;
  int depth = 0;  // ServerCalls on the stack
  std::optional<OpenSslAttribution> pass_scope;
};

class ServerCall {
 public:
  explicit ServerCall(ServerCalls& calls)
      : calls_(&calls),
        inside_pass_(calls.pass_scope.has_value()),
        scope_(*calls.counting, calls.connection, inside_pass_ ? calls.pass_scope->pass() : 0) {
    ++calls.depth;
  }
  ~ServerCall() {
    --calls_->depth;
    if (!inside_pass_) calls_->end_pass();
  }
  ServerCall(const ServerCall&) = delete;
  ServerCall& operator=(const ServerCall&) = delete;

 private:
  ServerCalls* calls_;
  bool inside_pass_;
  OpenSslAttribution scope_;
};

}  // namespace emitlab::sim
