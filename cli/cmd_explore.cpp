// emitlab explore: the model checker's command (cli/explore.h runs it); its flags and their
// ranges are declared here, once, for parsing, help and the README.
#include "cli/commands.h"
#include "cli/execute.h"
#include "cli/explore.h"
#include "cli/options.h"
#include "sim/explore.h"

namespace emitlab::cli {
namespace {

// Generous caps: a campaign's own limits, not the explorer's (it stops on whichever comes first).
constexpr std::uint64_t kMaxSchedulesFlag = std::uint64_t{1} << 48;
constexpr std::uint64_t kMaxSecondsFlag = 30ULL * 24 * 3600;  // a month of a cluster's time
constexpr std::uint64_t kMaxDepthFlag = 1U << 20;
constexpr std::uint64_t kMillis = 1000;

int explore(const Command&, const Args& args) {
  ExploreFlags f;
  f.scope = args.value("--scope");
  f.strategy = args.value("--strategy", f.strategy);
  f.bound_given = args.has("--bound");
  f.bound = static_cast<std::uint32_t>(number_value(args, "--bound", 0));
  f.mutant = args.value("--mutant");
  f.max_schedules = number_value(args, "--max-schedules", 0);
  f.max_seconds = seconds_value(args, "--max-seconds", 0);
  f.max_depth = number_value(args, "--max-depth", 0);
  f.no_prune = args.has("--no-prune");
  f.json = args.has("--json");
  f.progress = progress_wanted(args);
  f.shard = args.value("--shard");
  f.list_scopes = args.has("--list-scopes");
  f.list_mutants = args.has("--list-mutants");
  return run_explore(f);
}

}  // namespace

Command explore_command() {
  Command c;
  c.name = "explore";
  c.summary = "exhaust a scope's schedules with every rule checked (the model checker)";
  c.example = "explore --scope shutdown-inflight --strategy gather --bound 1";
  c.flags = {
      text_flag("--scope", "NAME|FILE", "a named scope (--list-scopes) or a scope JSON file",
                "the world to explore and which of its questions may deviate"),
      text_flag("--strategy", "S", "a strategy spec (emitlab strategies)",
                "the strategy under test"),
      number_flag("--bound", "K", Flag::Kind::Number, 0, sim::ExploreLimits::kMaxBound,
                  "the scope's", "most deviations from the default answers per schedule"),
      text_flag("--mutant", "NAME", "a mutant of --list-mutants",
                "arm a named fault point of the bug zoo"),
      number_flag("--max-schedules", "N", Flag::Kind::Number, 1, kMaxSchedulesFlag, "no limit",
                  "stop after N schedules (exit 3)"),
      number_flag("--max-seconds", "S", Flag::Kind::Seconds, 1, kMaxSecondsFlag * kMillis,
                  "no limit", "stop after S seconds of wall time (exit 3)"),
      number_flag("--max-depth", "N", Flag::Kind::Number, 1, kMaxDepthFlag, "no limit",
                  "deviate only in the first N questions of a run"),
      switch_flag("--no-prune", "explore states already seen again (to measure pruning)"),
      text_flag("--shard", "K/N|auto", "K/N with 0 <= K < N, or auto (Slurm array, K8s job)",
                "explore only this shard's subtrees (emitlab merge joins the shards)"),
      switch_flag("--json", "print one campaign result line (JSON) instead of text"),
      quiet_flag(),
      switch_flag("--list-scopes", "list the named scopes and their hazards, and exit"),
      switch_flag("--list-mutants", "list the mutants, their history and scope, and exit"),
  };
  c.flags[1].default_text = "drain";
  c.run = explore;
  return c;
}

}  // namespace emitlab::cli
