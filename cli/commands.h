// Every command of emitlab, in the order `emitlab --help` lists them. Each is declared in its
// own cli/cmd_NAME.cpp (see cli/command.h for what a declaration holds).
#pragma once

#include <vector>

#include "cli/command.h"

namespace emitlab::cli {

Command demo_command();
Command run_command();
Command compare_command();
Command replay_command();
Command strategies_command();
Command explore_command();
Command merge_command();
Command serve_command();
Command help_command();

const std::vector<Command>& all_commands();
const Command* find_command(std::string_view name);

}  // namespace emitlab::cli
