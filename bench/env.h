// What every benchmark of the process shares: the deterministic TLS contexts and the body bytes.
//
// The server and the simulated client draw from two separate seeded streams (two
// DeterministicTls objects). That is what makes record/replay possible: a replayed server, whose
// peer is absent, draws exactly the bytes the verified server drew, because no client draw is
// interleaved with them. Each is built once per process and rewound with reseed() per run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sim/deterministic_tls.h"
#include "sim/sim_peer.h"

namespace emitlab::bench {

inline constexpr std::uint64_t kServerSeed = 1;
inline constexpr std::uint64_t kClientSeed = 2;
inline constexpr std::uint64_t kBodySeed = 1;

// Response bodies are slices of one pseudo-random pattern, at an offset that depends on the
// request id: the handler's work is one memcpy (like a server copying a ready string), while a
// lost, duplicated or misplaced byte still changes what the peer verifies.
class BodyPool {
 public:
  BodyPool(std::size_t max_body, std::uint64_t seed);
  std::span<const std::uint8_t> body(std::uint64_t request_id, std::size_t size) const;
  sim::ExpectedResponse expected(std::uint64_t request_id, std::size_t size) const;

 private:
  static constexpr std::size_t kOffsets = 4093;  // prime: neighbouring ids get distinct slices
  std::vector<std::uint8_t> pattern_;
};

// The headers every response carries (the handler and the peer's expectation agree on them).
HeaderTable response_headers(std::uint64_t request_id);

class Env {
 public:
  Env();
  sim::DeterministicTls& server_tls() { return server_tls_; }
  sim::DeterministicTls& client_tls() { return client_tls_; }
  const BodyPool& bodies() const { return bodies_; }

 private:
  sim::DeterministicTls server_tls_;
  sim::DeterministicTls client_tls_;
  BodyPool bodies_;
};

// The process's Env: set by main for the lifetime of the benchmarks.
Env& env();
void set_env(Env* env);

}  // namespace emitlab::bench
