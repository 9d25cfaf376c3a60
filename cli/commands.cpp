#include "cli/commands.h"

namespace emitlab::cli {

const std::vector<Command>& all_commands() {
  static const std::vector<Command> kCommands = {
      demo_command(),  run_command(),   compare_command(),    replay_command(), explore_command(),
      merge_command(), serve_command(), strategies_command(), help_command(),
  };
  return kCommands;
}

const Command* find_command(std::string_view name) {
  for (const auto& c : all_commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace emitlab::cli
