// The flag groups commands share, and how their flags make a scenario: the command's defaults,
// then the --scenario file, then every flag given, in command-line order, each written into its
// scenario field; then the scenario's own cross-field rules. No bound is written here: each
// comes from the scenario's table (sim/scenario.h) and errors name the flag the user typed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/command.h"
#include "sim/scenario.h"

namespace emitlab::cli {

// Builders of table entries (cli/command.h): a flag that writes the scenario field `field`, one
// whose value is text the command reads (`allowed` says what), a switch, and a number that
// writes no field (Kind, bounds and default declared here; parse_args checks them).
Flag field_flag(std::string name, std::string metavar, std::string field, std::string help);
Flag text_flag(std::string name, std::string metavar, std::string allowed, std::string help);
Flag switch_flag(std::string name, std::string help);
Flag number_flag(std::string name, std::string metavar, Flag::Kind kind, std::uint64_t min,
                 std::uint64_t max, std::string default_text, std::string help);

// --strategy: one strategy spec (run).
Flag strategy_flag();
// Workload, link and ring flags, --scenario and --print-scenario (run, compare).
std::vector<Flag> scenario_flags();
// --quiet: no progress line on stderr (every command that can take over two seconds).
Flag quiet_flag();
// --json, --trace, --pcap, --keylog (run, replay).
std::vector<Flag> output_flags();

// Throws UsageError.
sim::Scenario make_scenario(const Command& c, const Args& args);

}  // namespace emitlab::cli
