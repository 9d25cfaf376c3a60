// Running one world for a command: summarized, timed on the host, stoppable by a signal.
#pragma once

#include <atomic>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

#include "cli/command.h"
#include "cli/fields.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "core/strategy.h"
#include "sim/scenario.h"
#include "sim/summary.h"
#include "sim/world.h"

namespace emitlab::cli {

// What `run` and `compare` read before running: the view (--wide, --fields, --show-replay) and
// the scenario, with `strategy` (compare's first) written over the scenario's when given.
// Throws UsageError on bad input. nullopt: --print-scenario was given, and the canonical
// scenario has been printed on standard output instead.
struct Prepared {
  View view;
  sim::Scenario scenario;
};
std::optional<Prepared> prepare(const Command& c, const Args& args,
                                const std::optional<StrategySpec>& strategy = std::nullopt);

// Runs the scenario with hashes and bodies checked as they pass (nothing kept), stoppable by
// SIGINT/SIGTERM (cli/interrupt.h). `keep` receives the run when given. `progress`: a run
// over two seconds prints a progress line a second on stderr (cli/progress.h).
sim::Summary run_and_summarize(const sim::Scenario& scenario, sim::RunOptions options,
                               sim::RunResult* keep, bool progress);

// One progress line over several runs (compare, demo): each counts its finished requests into
// counter(), and the line shows them against the total of every run, so a command of many
// short runs still says how far it is once it passes two seconds.
class CommandProgress {
 public:
  CommandProgress(std::uint64_t total_requests, std::string label, bool enabled)
      : line_(done_, total_requests, std::move(label), std::cerr, enabled) {}
  std::atomic<std::uint64_t>* counter() { return &done_; }

 private:
  std::atomic<std::uint64_t> done_{0};  // before line_: the line reads it until destroyed
  ProgressLine line_;
};
// A run of several under `progress` (prints no line of its own).
sim::Summary run_and_summarize(const sim::Scenario& scenario, sim::RunOptions options,
                               CommandProgress& progress);
// Neither --quiet nor --json was given (callers merge stderr into JSON, so it stays clean).
bool progress_wanted(const Args& args);
// Text (the tables `view` chooses, cli/fields.h) or JSON on standard output.
void print(const sim::Summary& s, bool json, const View& view, const sim::Scenario& scenario);
// The exit status of a command whose runs are done: interrupted (130/143) before anything else,
// then `ok` (0) or failed (1). Flushes standard output first (OutputError when it fails).
int finish_status(bool ok);

}  // namespace emitlab::cli
