// emitlab run: one strategy in the world, its figures printed.
#include <iostream>

#include "cli/commands.h"
#include "cli/execute.h"
#include "cli/fields.h"
#include "cli/options.h"
#include "cli/outputs.h"

namespace emitlab::cli {
namespace {

int run(const Command& c, const Args& args) {
  const auto p = prepare(c, args);
  if (!p) return finish_status(true);
  Outputs outputs(args);
  sim::RunOptions options;
  outputs.attach(options);
  const sim::Summary s = run_and_summarize(p->scenario, options, nullptr, progress_wanted(args));
  print(s, args.has("--json"), p->view, p->scenario);
  outputs.close();
  return finish_status(good(s));
}

}  // namespace

Command run_command() {
  Command c;
  c.name = "run";
  c.summary = "run one strategy and print its figures";
  c.example = "run --strategy gather+A1 --connections 10 --concurrency 32 --body 64K";
  c.defaults.workload.pacing = sim::Pacing::ClosedLoop;
  c.flags.push_back(strategy_flag());
  for (auto& f : scenario_flags()) c.flags.push_back(std::move(f));
  for (auto& f : output_flags()) c.flags.push_back(std::move(f));
  for (auto& f : view_flags()) c.flags.push_back(std::move(f));
  c.run = run;
  return c;
}

}  // namespace emitlab::cli
