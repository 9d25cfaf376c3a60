// The figures of one run, computed from its pass records and the peer's recordings.
#pragma once

#include <cstdint>
#include <string>

#include "sim/world.h"

namespace emitlab::sim {

struct Summary {
  std::string strategy;
  std::uint64_t responses_verified = 0;
  std::uint64_t responses_failed = 0;
  std::string failure;
  std::uint64_t passes = 0;
  std::uint64_t skipped_passes = 0;
  std::uint64_t ssl_writes = 0;
  std::uint64_t tls_records = 0;
  std::uint64_t write_submissions = 0;
  std::uint64_t parks = 0;
  double emitter_allocs_per_pass_mean = 0;
  std::uint64_t emitter_allocs_per_pass_max = 0;
  std::uint64_t emitter_allocs = 0;
  std::uint64_t emitter_frees = 0;
  std::uint64_t ref_ops = 0;
  std::uint64_t objects_destroyed_in_passes = 0;
  std::uint64_t bytes_copied = 0;
  std::uint64_t app_bytes = 0;
  std::uint64_t wire_bytes = 0;
  std::string app_sha256;
  std::string wire_sha256;
  bool close_notify_last = false;
};

Summary summarize(const RunResult& run);

}  // namespace emitlab::sim
