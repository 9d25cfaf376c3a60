// The properties' checks (issue 5, item 2): what each runs and what it asserts. Every world run
// is checked against every rule of props/checks.h (tier 3 holds on every run); tier 1 and tier 2
// add comparisons between runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "props/checks.h"
#include "props/gen.h"
#include "sim/world.h"

namespace emitlab::props {

// One world run of a scenario, checked against every rule.
struct CheckedRun {
  std::string label;  // the strategy's name, or "emitter(strategy)" for a test emitter
  sim::RunResult result;
  std::optional<Finding> finding;
  std::vector<std::vector<std::uint64_t>> writes;  // write submissions per connection
  AllocReport alloc;
  std::string token;  // the world's replay token (`emitlab replay`)
  // "LABEL app_sha256=... wire_sha256=... choices=COUNT:DIGEST"
  std::string hashes() const;
};
CheckedRun run_checked(const sim::Scenario& scenario, const std::string& emitter = {});

// What a property concluded about one case: every run it made, and the first broken rule.
struct Verdict {
  std::optional<Finding> finding;
  std::vector<CheckedRun> runs;
  std::size_t failing_run = 0;  // the run the replay token reruns
};

// Tier 3 and the safety, liveness and allocation rules: one run, every rule.
Verdict check_every_rule(const Case& c);
// Tier 1: on an input-independent scenario, the strategy's application stream equals drain's
// (byte for byte, per connection), and both runs keep every rule.
Verdict check_app_stream(const Case& c);
// Tier 2: the strategy, the same base/cap/threshold without options, and with all of A1, A2,
// A3 (strategies promised identical SSL_write calls, by core's promise_between) make identical
// choices, write submissions, pass shapes, ciphertext and application streams, under the
// case's schedule, and every run keeps every rule.
Verdict check_ciphertext(const Case& c);

}  // namespace emitlab::props
