// `emitlab explore` (issue 10, item 5; issue 16, item 1): exhaust a scope's schedules with
// every rule checked, print progress on stderr once a second and a summary (or one JSON result
// line, /work/campaign-schema.md) at the end. Exit 0 exhausted clean, 1 a violation, 3 a bound
// stopped it first, 2 bad input (thrown as UsageError).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace emitlab::cli {

struct ExploreFlags {
  std::string scope;
  std::string strategy = "drain";
  std::uint32_t bound = 0;  // 0 with bound_given false: the scope's
  std::string mutant;
  std::uint64_t max_schedules = 0;
  double max_seconds = 0;
  std::uint64_t max_depth = 0;
  bool no_prune = false;
  bool json = false;
  std::string shard;  // "K/N" or "auto"
  bool list_scopes = false;
  bool list_mutants = false;
};

CLI::App* add_explore(CLI::App& app, ExploreFlags& flags);
int cmd_explore(const CLI::App& cmd, const ExploreFlags& flags);

}  // namespace emitlab::cli
