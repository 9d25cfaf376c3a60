// emitlab help [COMMAND]: the overview, or every flag of one command.
#include <iostream>

#include "cli/commands.h"
#include "cli/help.h"
#include "cli/outputs.h"
#include "core/echo.h"

namespace emitlab::cli {

Command help_command() {
  Command c;
  c.name = "help";
  c.summary = "list the commands, or every flag of one command with its range and default";
  c.example = "help run";
  Flag command;
  command.name = "COMMAND";
  command.metavar = "COMMAND";
  command.help = "the command to describe";
  command.allowed = "a command listed by emitlab --help";
  c.flags.push_back(command);
  Flag markdown;
  markdown.name = "--markdown";
  markdown.help = "print every command's flags as the README's Markdown tables";
  c.flags.push_back(markdown);
  c.run = [](const Command&, const Args& args) {
    if (args.has("--markdown")) {
      print_markdown(std::cout);
    } else if (!args.has("COMMAND")) {
      print_overview(std::cout);
    } else if (const Command* target = find_command(args.value("COMMAND"))) {
      print_command_help(std::cout, *target);
    } else {
      throw UsageError{"emitlab help: unknown command " + echo(args.value("COMMAND")) +
                       "; emitlab --help lists them"};
    }
    flush_stdout();
    return 0;
  };
  return c;
}

}  // namespace emitlab::cli
