// The small deterministic driver of the foundation: one server connection and one simulated
// peer, a wire between them, and completions either synchronous (from inside submit) or one
// step later. Same config and seed give the same bytes. The full simulator replaces it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/pass_record.h"
#include "core/strategy.h"
#include "sim/sim_peer.h"

namespace emitlab::sim {

enum class Completions { Sync, NextStep };

struct RunConfig {
  StrategySpec strategy;
  std::uint32_t streams = 100;  // requests on the connection
  std::size_t body_size = 3;
  std::uint64_t seed = 1;
  std::size_t cipher_ring_records = 0;  // 0: the 64 KiB default
  std::size_t plaintext_ring = 32768;
  Completions completions = Completions::NextStep;
  std::uint32_t max_concurrency = 100;  // the peer's lockstep batch (server allows 100)
};

struct RunResult {
  RunConfig config;
  bool connection_failed = false;
  std::string failure;  // empty when the run completed
  std::size_t responses_verified = 0;
  std::size_t responses_failed = 0;
  std::vector<PassRecord> passes;
  PassRecord totals;  // passes plus work outside passes
  std::vector<std::uint8_t> wire;  // server->client ciphertext
  std::vector<std::uint8_t> app;   // decrypted server->client application stream
  std::vector<RecordInfo> records;
  std::vector<FrameInfo> frames;
  std::vector<StreamResult> streams;
  bool close_notify_is_last = false;
  std::uint64_t steps = 0;
  bool ok() const { return failure.empty() && responses_failed == 0; }
};

// What the handler answers to request `request_id` (the peer verifies against the same).
ExpectedResponse expected_response(std::uint64_t seed, std::uint64_t request_id,
                                   std::size_t body_size);

RunResult run_world(const RunConfig& config);

std::string sha256_hex(const std::vector<std::uint8_t>& bytes);

}  // namespace emitlab::sim
