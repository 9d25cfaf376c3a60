// The deterministic world: C connections, each a real ServerConnection (core/) with its own TLS
// pair, link and simulated peer, under one discrete-event scheduler with virtual time. Every
// nondeterministic decision goes through one Chooser (sim/choice.h); the same scenario and the
// same choices give the same bytes, in any process and build.
//
// One DeterministicTls serves the whole world: its libctx, contexts and seeded random stream are
// shared by every connection. Handshake draws happen in event order, which the choices fix, so
// this stays deterministic while saving 2.4-4 ms of context setup per connection.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/allocator.h"
#include "core/emitter.h"
#include "core/invariants.h"
#include "core/pass_record.h"
#include "core/strategy.h"
#include "sim/choice.h"
#include "sim/run_stats.h"
#include "sim/scenario.h"
#include "sim/sha256.h"
#include "sim/sim_peer.h"
#include "sim/workload.h"

namespace emitlab::sim {

class CountingAllocator;
class DeterministicTls;
class WorldObserver;

// ---------------------------------------------------------------------------------------------
// The foundation's shorthand: one connection, lockstep batches.

enum class Completions { Sync, NextStep };

struct RunConfig {
  StrategySpec strategy;
  std::uint32_t streams = 100;  // requests on the connection
  std::size_t body_size = 3;
  std::uint64_t seed = 1;
  std::size_t cipher_ring_records = 0;  // 0: the 64 KiB default
  std::size_t plaintext_ring = 32768;
  Completions completions = Completions::NextStep;  // NextStep: asynchronous
  std::uint32_t max_concurrency = 100;              // the peer's lockstep batch (server allows 100)
};
Scenario to_scenario(const RunConfig& config);

// ---------------------------------------------------------------------------------------------

struct RunOptions {
  ChoiceSource* choices = nullptr;                   // null: SeededChoices from the scenario's seed
  std::size_t keep_choices = Chooser::kDefaultKeep;  // longest choice list kept in the record
  bool keep_bytes = true;   // keep each connection's wire and application streams
  bool keep_bodies = true;  // keep each stream's body
  // Keep every pass record, stream result, frame and TLS record in the result. Off, a run keeps
  // only what is open (its streams, the last pass records of each connection) and the summary
  // reads RunResult::stats, so memory does not grow with the number of requests or passes;
  // hashes, counts and totals are the same either way.
  bool keep_history = true;
  // Counting allocator of the run; null: the world makes its own. Its OpenSSL figures are
  // real only when the process installed the OpenSSL memory hooks (sim/openssl_mem.h).
  CountingAllocator* counting = nullptr;
  std::vector<WorldObserver*> observers;
  // NSS key log lines of every connection (server side), for --keylog.
  std::function<void(std::string_view line)> keylog;
  std::uint64_t max_events = 2'000'000'000;  // a run that never settles is reported, not hung
  // TLS contexts to reuse (null: the world builds its own). The world rewinds it to the
  // scenario's seed first, so a reused one hands out the bytes a fresh one would; building one
  // is 60-70% of a small run. Borrowed: it must outlive the run, and serve one run at a time.
  DeterministicTls* tls = nullptr;
  // Polled between events: once it reads true the world stops before the next event and reports
  // the run interrupted (what ran is collected as usual). The CLI's SIGINT/SIGTERM handler sets
  // it; a run that never sees it set is exactly the run without it.
  const std::atomic<bool>* stop = nullptr;
  // Builds every connection's emitter; empty: core's make_emitter for the scenario's strategy.
  // Properties inject strategies broken on purpose here (never shipped in core or the CLI).
  EmitterFactory emitter_factory;
  // Requests finished so far (verified, failed or given up), counted up as they finish, for a
  // progress line; null: not counted. The world only writes it (relaxed); it never reads time.
  std::atomic<std::uint64_t>* progress = nullptr;
};

struct AllocationFigures {
  bool counted = false;                                // a counting allocator served the run
  bool openssl_counted = false;                        // OpenSSL's allocations were observed
  std::array<std::uint64_t, kAllocOwners> by_owner{};  // allocations per owner, whole run
  std::uint64_t violations = 0;     // double frees, foreign pointers, header corruption
  std::uint64_t leaked_blocks = 0;  // port blocks still live after the world was torn down
  std::string injected_failure;     // where fail_at hit, if it did
};

struct ConnectionResult {
  std::uint32_t index = 0;
  std::uint32_t requests = 0;
  std::string failure;   // empty: the connection ended as it should
  bool stalled = false;  // failed only by the world settling with it unfinished (a liveness bug)
  bool aborted = false;  // the peer dropped it on purpose
  PeerVerdict verdict = PeerVerdict::Completed;
  std::size_t responses_verified = 0;
  std::size_t responses_failed = 0;
  std::size_t responses_cancelled = 0;
  std::vector<PassRecord> passes;
  PassRecord totals;
  Digest wire_digest{};
  Digest app_digest{};
  std::uint64_t wire_bytes = 0;
  std::uint64_t app_bytes = 0;
  std::vector<std::uint8_t> wire;  // kept with RunOptions::keep_bytes
  std::vector<std::uint8_t> app;
  std::vector<RecordInfo> records;
  std::vector<FrameInfo> frames;
  std::vector<StreamResult> streams;
  bool close_notify_is_last = false;
  std::uint64_t pings_sent = 0;
  std::uint64_t pings_acked = 0;
  std::uint64_t window_updates = 0;
  // The safety rules core broke as it ran (core/invariants.h), in order; each also failed the
  // connection. (emitlab::Violation, not the counting allocator's sim::Violation.)
  std::vector<::emitlab::Violation> violations;
  // When the server connection was torn down (at the end of the run, or when the peer dropped
  // it): hybrid's latch counter, the latched streams still open, and all streams still open. A
  // stream may still be open then (its peer's RST_STREAM in flight): counter and latched
  // streams must agree (P5), and the teardown drops what open streams hold.
  std::uint32_t latch_counter_at_close = 0;
  std::uint32_t latched_open_at_close = 0;
  std::uint32_t open_streams_at_close = 0;
};

// How the world's loop ended, as a value: callers branch on it, never on failure's words.
enum class RunEnd : std::uint8_t {
  Settled,         // no event left; failure, if any, is the first failed connection's
  EventLimit,      // RunOptions::max_events ran out: the world did not settle
  Interrupted,     // RunOptions::stop
  ReplayDiverged,  // the choices replayed did not fit the run
  Stopped,         // an exception stopped the world
  Invalid,         // the scenario was refused before the world was built
  CoreInvalid,     // a core type's validate() found a broken invariant between events
};

struct RunResult {
  Scenario scenario;
  RunConfig config;  // the shorthand view (strategy, seed, streams = requests, body = min)
  std::vector<ConnectionResult> connections;
  std::string failure;  // the first connection failure, or the run's own (replay divergence)
  std::size_t responses_verified = 0;
  std::size_t responses_failed = 0;
  std::size_t responses_cancelled = 0;
  std::size_t connections_failed = 0;
  bool replay_diverged = false;
  bool interrupted = false;  // RunOptions::stop ended it (failure says when)
  RunEnd end = RunEnd::Settled;
  ChoiceRecord choices;
  std::uint64_t events = 0;
  std::uint64_t virtual_ns = 0;
  AllocationFigures allocations;
  RunStats stats;  // every pass and stream, kept or not

  // The whole run, in connection order (for one connection: exactly that connection's).
  std::vector<PassRecord> passes;
  PassRecord totals;
  std::vector<std::uint8_t> wire;
  std::vector<std::uint8_t> app;
  std::vector<RecordInfo> records;
  std::vector<FrameInfo> frames;
  std::vector<StreamResult> streams;
  bool close_notify_is_last = false;  // on every connection not aborted

  // SHA-256 of the stream for one connection; for several, of their digests in order.
  std::string wire_sha256() const;
  std::string app_sha256() const;
  bool ok() const { return failure.empty() && responses_failed == 0; }
  // The run's failure is a stall: the world settled, and the first failed connection was
  // failed only by being unfinished.
  bool stalled() const;
};

RunResult run_world(const Scenario& scenario, const RunOptions& options = {});
RunResult run_world(const RunConfig& config);

}  // namespace emitlab::sim
