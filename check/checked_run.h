// One world run of a scenario, checked against every rule of check/rules.h (tier 3 holds on
// every run), and the comparisons between runs that tiers 1 and 2 make.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "check/rules.h"
#include "core/emitter.h"
#include "sim/world.h"

namespace emitlab::check {

struct CheckedRun {
  std::string label;  // the strategy's name, or "emitter(strategy)" for a test emitter
  sim::RunResult result;
  std::optional<Finding> finding;
  std::vector<std::vector<std::uint64_t>> writes;  // write submissions per connection
  AllocReport alloc;
  std::string token;  // the world's replay token (`emitlab replay`); empty without options.token
  // "LABEL app_sha256=... wire_sha256=... choices=COUNT:DIGEST"
  std::string hashes() const;
};

// What a run needs besides the scenario. `emitter` names a test emitter (empty: core's, from
// the scenario's strategy) and `factory` builds it; `choices` and `tls` are passed on to
// sim::run_world (null: seeded choices, a fresh DeterministicTls).
struct CheckOptions {
  std::string emitter;
  EmitterFactory factory;
  sim::ChoiceSource* choices = nullptr;
  sim::DeterministicTls* tls = nullptr;
  bool keep_bytes = true;
  bool keep_bodies = true;
  // Encode the run's replay token (CheckedRun::token). The explorer turns it off and encodes
  // one only for a violation: compressing a token is ~4% of a small schedule.
  bool token = true;
  std::vector<sim::WorldObserver*> observers;  // besides the step checker
  // Called with the run's step checker before the run starts (the explorer reads its state).
  std::function<void(const StepChecker&)> watch_steps;
};
CheckedRun run_checked(const sim::Scenario& scenario, const CheckOptions& options = {});

// What a comparison of runs concluded: every run it made, and the first broken rule.
struct Verdict {
  std::optional<Finding> finding;
  std::vector<CheckedRun> runs;
  std::size_t failing_run = 0;  // the run the replay token reruns
};
// The first run with a broken rule makes the verdict.
Verdict verdict_of(std::vector<CheckedRun> runs);

// Tier 1: on an input-independent scenario, the strategy's application stream equals drain's
// (byte for byte, per connection), and both runs keep every rule. `options` builds the
// scenario's strategy (a test emitter applies to it, never to drain).
Verdict check_app_stream(const sim::Scenario& scenario, const CheckOptions& options);
// Tier 2: the strategy, the same base/cap/threshold without options, and with all of A1, A2,
// A3 (strategies promised identical SSL_write calls, by core's promise_between) make identical
// choices, write submissions, pass shapes, ciphertext and application streams, under the
// scenario's schedule, and every run keeps every rule.
Verdict check_ciphertext(const sim::Scenario& scenario, const CheckOptions& options);

}  // namespace emitlab::check
