// What every connection of a world shares: the scenario and its workload, the choices, the
// scheduler, the TLS contexts, the counting allocator, observers and the run's options.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "core/response.h"
#include "core/server_connection.h"
#include "sim/choice.h"
#include "sim/deterministic_tls.h"
#include "sim/observer.h"
#include "sim/run_stats.h"
#include "sim/scenario.h"
#include "sim/scheduler.h"
#include "sim/workload.h"

namespace emitlab::sim {

class CountingAllocator;

struct WorldContext {
  const Scenario& scenario;
  const Workload& workload;
  Chooser& chooser;
  Scheduler& scheduler;
  DeterministicTls& tls;
  CountingAllocator& counting;
  ResponseObject* shared_body;  // the immutable shared response (null when none is planned)
  const std::vector<WorldObserver*>& observers;
  bool keep_bytes;
  bool keep_bodies;
  bool keep_history;                      // RunOptions::keep_history
  RunStats& stats;                        // the world's running statistics
  const EmitterFactory& emitter_factory;  // empty: core's make_emitter
  std::atomic<std::uint64_t>* progress;   // RunOptions::progress
};

}  // namespace emitlab::sim
