// Help generated from the command table (cli/command.h): the overview of `emitlab` and
// `emitlab --help`, each command's flags with what they allow and their default
// (`emitlab help COMMAND`, `emitlab COMMAND --help`), and the README's flag tables
// (`emitlab help --markdown`, checked by test_cli against README.md).
#pragma once

#include <ostream>

#include "cli/command.h"

namespace emitlab::cli {

void print_overview(std::ostream& out);
void print_command_help(std::ostream& out, const Command& c);
void print_markdown(std::ostream& out);

}  // namespace emitlab::cli
