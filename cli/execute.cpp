#include "cli/execute.h"

#include <time.h>

#include <atomic>
#include <iostream>

#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/options.h"
#include "cli/outputs.h"
#include "cli/progress.h"
#include "cli/report.h"

namespace emitlab::cli {
namespace {

// The host's CPU time: the world's own speed, never part of a run's figures or hashes.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

namespace {

sim::Summary run_counted(const sim::Scenario& scenario, sim::RunOptions options,
                         sim::RunResult* keep, std::atomic<std::uint64_t>* done) {
  options.keep_bytes = false;    // hashed as they pass; a 100 x 10,000 run keeps no streams
  options.keep_bodies = false;   // verified as they arrive
  options.keep_history = false;  // summarised from RunResult::stats as the run goes
  options.stop = &stop_on_signals();
  options.progress = done;
  const double start = cpu_seconds();
  sim::RunResult run = sim::run_world(scenario, options);
  const double cpu = cpu_seconds() - start;
  sim::Summary s = sim::summarize(run);
  s.cpu_seconds = cpu;
  s.responses_per_cpu_second = cpu > 0 ? static_cast<double>(s.responses_verified) / cpu : 0;
  if (keep != nullptr) *keep = std::move(run);
  return s;
}

}  // namespace

std::optional<Prepared> prepare(const Command& c, const Args& args,
                                const std::optional<StrategySpec>& strategy) {
  Prepared p{view_of(args), make_scenario(c, args)};
  if (strategy) p.scenario.strategy = *strategy;
  if (args.has("--print-scenario")) {
    std::cout << sim::canonical_json(p.scenario) << '\n';
    return std::nullopt;
  }
  return p;
}

sim::Summary run_and_summarize(const sim::Scenario& scenario, sim::RunOptions options,
                               sim::RunResult* keep, bool progress) {
  CommandProgress line(scenario.workload.requests, scenario.strategy.name(), progress);
  return run_counted(scenario, std::move(options), keep, line.counter());
}

sim::Summary run_and_summarize(const sim::Scenario& scenario, sim::RunOptions options,
                               CommandProgress& progress) {
  return run_counted(scenario, std::move(options), nullptr, progress.counter());
}

void print(const sim::Summary& s, bool json, const View& view, const sim::Scenario& scenario) {
  if (json) {
    std::cout << to_json(s).dump(2) << '\n';
  } else {
    print_summary(std::cout, s, view, describe(scenario));
  }
}

bool progress_wanted(const Args& args) {
  return !args.has("--quiet") && !args.has("--json");
}

int finish_status(bool ok) {
  flush_stdout();
  if (stop_signal() != 0) return interrupted_status();
  return ok ? 0 : kExitFailed;
}

}  // namespace emitlab::cli
