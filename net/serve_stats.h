// What `emitlab serve` reports on exit and on SIGUSR1, as text and as JSON. Counts come from
// the connections' PassRecords (exact totals, kept bounded in memory) and the process.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "net/process_usage.h"

namespace emitlab::net {

struct ServeStats {
  std::string strategy;
  std::uint64_t body = 0;
  std::string listen;

  // The counts, each declared once: name, then the member (kept in this order in the output).
#define EMITLAB_SERVE_COUNTS(X)                                                          \
  X(connections_accepted) /* handshakes started */                                       \
  X(connections_refused)  /* over --max-connections, closed at accept */                 \
  X(connections_open)                                                                    \
  X(connections_graceful)  /* close_notify sent */                                       \
  X(connections_peer_gone) /* the peer closed or reset the socket first */               \
  X(connections_failed)    /* TLS or HTTP/2 error */                                     \
  X(connections_reclaimed) /* a write missed --write-timeout */                          \
  X(connections_forced)    /* still open at the shutdown deadline */                     \
  X(requests)                                                                            \
  X(responses)     /* streams closed with NO_ERROR (every byte handed to TLS) */         \
  X(streams_reset) /* streams closed with an error code (peer reset, connection lost) */ \
  X(open_streams)                                                                        \
  X(held_response_bodies) /* response bodies still allocated */                          \
  X(held_emitter_blocks)  /* emitter and nghttp2 blocks still allocated */               \
  X(passes)                                                                              \
  X(plaintext_bytes)                                                                     \
  X(ssl_writes)                                                                          \
  X(tls_records)                                                                         \
  X(undersized_records) /* under 16384 plaintext bytes while more was queued */          \
  X(write_submissions)  /* Transport submits (uv_write calls) */                         \
  X(write_syscalls)     /* /proc/self/io syscw */                                        \
  X(emitter_allocations)                                                                 \
  X(reference_operations)                                                                \
  X(bytes_copied)                                                                        \
  X(cpu_us)                                                                              \
  X(user_us)                                                                             \
  X(system_us)                                                                           \
  X(page_faults) /* minor + major */
#define EMITLAB_DECLARE(name) std::uint64_t name = 0;
  EMITLAB_SERVE_COUNTS(EMITLAB_DECLARE)
#undef EMITLAB_DECLARE

  // Ratios (0 when the denominator is 0).
  double per_response(std::uint64_t count) const;
  double records_per_write() const;
  double emitter_allocations_per_pass() const;
};

void write_text(std::ostream& out, const ServeStats& s);
// One JSON object: every count, then "per_response" and the other ratios.
std::string to_json(const ServeStats& s);

}  // namespace emitlab::net
