// `emitlab explore`: exhaust a scope's schedules with
// every rule checked, print progress on stderr once a second and a summary (or one JSON result
// line, README "Campaigns on a cluster (Slurm)") at the end. Exit 0 exhausted clean, 1 a violation,
// 3 a bound stopped it first, 2 bad input (thrown as UsageError).
#pragma once

#include <cstdint>
#include <string>

namespace emitlab::cli {

// What `emitlab explore` was given (cli/cmd_explore.cpp reads it from the command table, where
// every flag's range is declared).
struct ExploreFlags {
  std::string scope;
  std::string strategy = "drain";
  std::uint32_t bound = 0;
  bool bound_given = false;  // else the scope's own bound
  std::string mutant;
  std::uint64_t max_schedules = 0;  // 0: no limit
  double max_seconds = 0;           // 0: no limit
  std::uint64_t max_depth = 0;      // 0: no limit
  bool no_prune = false;
  bool json = false;
  bool progress = true;  // a line a second on stderr once the run passed two seconds
  std::string shard;     // "K/N" or "auto"
  bool list_scopes = false;
  bool list_mutants = false;
};

// Throws UsageError; returns the exit status above.
int run_explore(const ExploreFlags& flags);

}  // namespace emitlab::cli
