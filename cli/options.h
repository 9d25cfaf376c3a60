// The flag groups commands share, and how their flags make a scenario: the command's defaults,
// then the --scenario file, then every flag given, in command-line order, each written into its
// scenario field; then the scenario's own cross-field rules. No bound is written here: each
// comes from the scenario's table (sim/scenario.h) and errors name the flag the user typed.
#pragma once

#include <vector>

#include "cli/command.h"
#include "sim/scenario.h"

namespace emitlab::cli {

// --strategy: one strategy spec (run).
Flag strategy_flag();
// Workload, link and ring flags, --scenario and --print-scenario (run, compare).
std::vector<Flag> scenario_flags();
// --json, --trace, --pcap, --keylog (run, replay).
std::vector<Flag> output_flags();

// Throws UsageError.
sim::Scenario make_scenario(const Command& c, const Args& args);

}  // namespace emitlab::cli
