// Running one world for a command: summarized, timed on the host, stoppable by a signal.
#pragma once

#include "cli/command.h"
#include "cli/fields.h"
#include "sim/scenario.h"
#include "sim/summary.h"
#include "sim/world.h"

namespace emitlab::cli {

// Runs the scenario with hashes and bodies checked as they pass (nothing kept), stoppable by
// SIGINT/SIGTERM (cli/interrupt.h). `keep` receives the run when given. `progress`: a run
// over two seconds prints a progress line a second on stderr (cli/progress.h).
sim::Summary run_and_summarize(const sim::Scenario& scenario, sim::RunOptions options,
                               sim::RunResult* keep, bool progress);
// Neither --quiet nor --json was given (callers merge stderr into JSON, so it stays clean).
bool progress_wanted(const Args& args);
// Text (the tables `view` chooses, cli/fields.h) or JSON on standard output.
void print(const sim::Summary& s, bool json, const View& view, const sim::Scenario& scenario);
// Every response verified and no connection failed.
bool good(const sim::Summary& s);
// The exit status of a command whose runs are done: interrupted (130/143) before anything else,
// then `ok` (0) or failed (1). Flushes standard output first (OutputError when it fails).
int finish_status(bool ok);

}  // namespace emitlab::cli
