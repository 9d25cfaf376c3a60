#include "cli/explore.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "check/explore_checked.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/outputs.h"
#include "cli/progress.h"
#include "core/mutant.h"
#include "core/strategy.h"
#include "sim/json_reader.h"
#include "sim/scope.h"
#include "sim/sha256.h"

namespace emitlab::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Shard {
  std::uint32_t index = 0, count = 1;
};

bool parse_u32(const std::string& text, std::uint32_t& out) {
  if (text.empty() || text.size() > 9 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  out = static_cast<std::uint32_t>(std::stoul(text));
  return true;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

// --shard auto: a Slurm array task (SLURM_ARRAY_TASK_ID from SLURM_ARRAY_TASK_MIN, of
// SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, of
// EMITLAB_SHARD_COUNT, which the Job sets to its completions).
Shard auto_shard() {
  std::uint32_t id = 0, count = 0, min = 0;
  if (const char* t = env("SLURM_ARRAY_TASK_ID")) {
    const char* c = env("SLURM_ARRAY_TASK_COUNT");
    const char* m = env("SLURM_ARRAY_TASK_MIN");
    if (!parse_u32(t, id) || c == nullptr || !parse_u32(c, count) ||
        (m != nullptr && !parse_u32(m, min)) || id < min || id - min >= count) {
      throw UsageError{"bad --shard auto: SLURM_ARRAY_TASK_ID=" + std::string(t) +
                       " with SLURM_ARRAY_TASK_COUNT=" + (c ? c : "(unset)") +
                       " is not a task of the array"};
    }
    return {id - min, count};
  }
  if (const char* t = env("JOB_COMPLETION_INDEX")) {
    const char* c = env("EMITLAB_SHARD_COUNT");
    if (!parse_u32(t, id) || c == nullptr || !parse_u32(c, count) || count == 0 || id >= count) {
      throw UsageError{"bad --shard auto: JOB_COMPLETION_INDEX=" + std::string(t) +
                       " needs EMITLAB_SHARD_COUNT (the Job's completions) above it, got " +
                       (c ? c : "(unset)")};
    }
    return {id, count};
  }
  throw UsageError{
      "--shard auto: neither SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (a Slurm array job) nor "
      "JOB_COMPLETION_INDEX/EMITLAB_SHARD_COUNT (a Kubernetes Indexed Job) is set; give K/N"};
}

Shard parse_shard(const std::string& text) {
  if (text.empty()) return {};
  if (text == "auto") return auto_shard();
  const auto slash = text.find('/');
  Shard s;
  if (slash == std::string::npos || !parse_u32(text.substr(0, slash), s.index) ||
      !parse_u32(text.substr(slash + 1), s.count) || s.count == 0 || s.index >= s.count) {
    throw UsageError{"bad --shard '" + text + "': expected K/N with 0 <= K < N, or auto"};
  }
  return s;
}

struct LoadedScope {
  sim::Scope scope;
  std::string campaign_name;  // the name, or sha256:HEX of a scope file
};

LoadedScope load_scope(const std::string& arg) {
  if (const sim::Scope* s = sim::find_scope(arg)) return {*s, s->name};
  // Opened once: a second open of a named pipe would wait for another writer.
  const sim::FileRead file = sim::read_text_file(arg, sim::kMaxScopeBytes);
  if (!file.text && file.error.starts_with("cannot be read")) {
    std::string names;
    for (const auto& s : sim::named_scopes()) names += (names.empty() ? "" : ", ") + s.name;
    throw UsageError{"bad --scope '" + arg + "': neither a named scope (" + names +
                     ") nor a readable scope file"};
  }
  if (!file.text) throw UsageError{"bad --scope '" + arg + "': " + file.error};
  auto parsed = sim::parse_scope(*file.text, arg);
  if (!parsed.scope) throw UsageError{"bad --scope: " + parsed.error};
  const std::string& body = *file.text;
  const auto digest =
      sim::sha256(std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  return {*parsed.scope, "sha256:" + sim::hex(digest)};
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

nlohmann::ordered_json result_line(const LoadedScope& scope, const ExploreFlags& f,
                                   const sim::ExploreLimits& limits, const Shard& shard,
                                   const sim::ExploreReport& r, double seconds) {
  nlohmann::ordered_json campaign{
      {"scope", scope.campaign_name},
      {"strategy", f.strategy},
      {"bound", limits.bound},
      {"mutant", f.mutant},
      {"prune", limits.prune},
      {"max_schedules",
       limits.max_schedules ? nlohmann::ordered_json(limits.max_schedules) : nullptr},
      {"split_depth", sim::ExploreLimits::kSplitDepth}};
  if (limits.max_depth != 0) campaign["max_depth"] = limits.max_depth;
  nlohmann::ordered_json j{
      {"emitlab_campaign", 1},
      {"kind", "explore"},
      {"campaign", campaign},
      {"shard", shard.index},
      {"shards", shard.count},
      {"schedules", r.counts.schedules},
      {"cases", 0},
      {"distinct_states", r.counts.distinct_states},
      {"pruned", r.counts.pruned},
      {"exhausted", r.exhausted},
      {"stopped_by", r.stopped_by.empty() ? nlohmann::ordered_json(nullptr)
                                          : nlohmann::ordered_json(r.stopped_by)},
      {"seconds", seconds},
      {"violations", nlohmann::ordered_json::array()}};
  if (r.violation) {
    const auto& v = *r.violation;
    j["violations"].push_back({{"rule", v.rule},
                               {"detail", v.detail},
                               {"deviations", v.deviations},
                               {"ordinal", v.ordinal},
                               {"schedule", v.schedule},
                               {"replay", "emitlab replay " + v.token}});
  }
  return j;
}

void print_text(const LoadedScope& scope, const ExploreFlags& f, const sim::ExploreLimits& limits,
                const Shard& shard, const sim::ExploreReport& r, double seconds) {
  std::ostream& o = std::cout;
  o << "scope:      " << scope.scope.name << " (" << scope.scope.hazard << ")\n";
  o << "strategy:   " << f.strategy << ", bound K <= " << limits.bound
    << (limits.prune ? ", pruning on" : ", pruning off");
  if (shard.count > 1) o << ", shard " << shard.index << "/" << shard.count;
  if (!f.mutant.empty()) o << ", mutant " << f.mutant;
  o << '\n';
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.0f", seconds > 0 ? r.counts.schedules / seconds : 0.0);
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f", seconds);
  o << "schedules:  " << r.counts.schedules << " (" << r.counts.runs << " runs), "
    << r.counts.distinct_states << " distinct states, " << r.counts.pruned << " pruned\n";
  o << "time:       " << secs << " s, " << rate << " schedules/s\n";
  if (r.violation) {
    const auto& v = *r.violation;
    o << "verdict:    violation at K=" << v.deviations << "\n";
    o << "violation:  " << v.rule << ": " << v.detail << '\n';
    o << "schedule:   " << v.schedule << '\n';
    o << "replay:     emitlab replay " << v.token << '\n';
  } else if (r.exhausted) {
    o << "verdict:    exhausted, clean (every schedule with K <= " << limits.bound
      << " deviations)\n";
  } else {
    o << "verdict:    stopped by " << r.stopped_by << " in K=" << r.counts.k << ", not exhausted\n";
  }
}

// The bug zoo (core/mutant.h) with the scope the explorer catches each one on.
int list_mutants(bool json) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const MutantInfo& m : mutant_table()) {
    if (m.mutant == Mutant::None) continue;
    const sim::TeethScope& t = sim::teeth_scope(m.mutant);
    if (json) {
      all.push_back({{"name", m.name},
                     {"history", m.history},
                     {"hazard", m.hazard},
                     {"scope", t.scope},
                     {"strategy", t.strategy},
                     {"bound", t.bound}});
    } else {
      std::cout << m.name << "  (scope " << t.scope << ", " << t.strategy << ")\n    " << m.history
                << "\n";
    }
  }
  if (json) std::cout << all.dump() << '\n';
  flush_stdout();
  return 0;
}

}  // namespace

int run_explore(const ExploreFlags& given) {
  ExploreFlags f = given;
  if (f.list_scopes) {
    for (const auto& s : sim::named_scopes()) {
      std::cout << s.name << std::string(s.name.size() < 28 ? 28 - s.name.size() : 1, ' ')
                << "K<=" << s.bound << "  " << s.hazard << '\n';
    }
    flush_stdout();
    return 0;
  }
  if (f.list_mutants) return list_mutants(f.json);
  if (f.scope.empty()) throw UsageError{"explore needs --scope NAME|FILE (see --list-scopes)"};
  Mutant mutant = Mutant::None;
  if (!f.mutant.empty()) {
    auto m = parse_mutant(f.mutant);
    if (!m.mutant) throw UsageError{"bad --mutant: " + m.error};
    mutant = *m.mutant;
  }
  f.mutant = mutant == Mutant::None ? std::string() : std::string(to_string(mutant));
  const LoadedScope scope = load_scope(f.scope);
  auto parsed = parse_strategy(f.strategy);
  if (!parsed.spec) throw UsageError{parsed.error};
  if (!(f.max_seconds >= 0)) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", f.max_seconds);
    throw UsageError{std::string("bad --max-seconds ") + shown +
                     ": expected seconds >= 0 (0: no limit)"};
  }
  sim::ExploreLimits limits = check::limits_of(scope.scope);
  if (f.bound_given) limits.bound = f.bound;  // its range is declared in cmd_explore.cpp
  limits.max_schedules = f.max_schedules;
  limits.max_depth = f.max_depth;
  limits.prune = !f.no_prune;
  const Shard shard = parse_shard(f.shard);
  limits.shard = shard.index;
  limits.shards = shard.count;

  check::ExploreRequest request;
  request.scenario = scope.scope.scenario;
  request.scenario.strategy = *parsed.spec;
  request.scenario.mutant = mutant;
  request.limits = limits;
  const auto start = Clock::now();
  auto last = start;
  request.poll = [&](const sim::ExploreProgress& p) -> std::string {
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    if (f.progress && elapsed >= ProgressLine::kQuietSeconds &&
        now - last >= std::chrono::duration<double>(ProgressLine::kIntervalSeconds)) {
      last = now;
      std::fprintf(
          stderr, "explore: K=%u %llu schedules, %.0f/s, %llu distinct states, %llu pruned\n", p.k,
          static_cast<unsigned long long>(p.schedules), elapsed > 0 ? p.schedules / elapsed : 0.0,
          static_cast<unsigned long long>(p.distinct_states),
          static_cast<unsigned long long>(p.pruned));
    }
    // SIGINT/SIGTERM (a cluster's time limit sends SIGTERM): stop after this run and report
    // what was explored, so the shard's line is written rather than lost.
    if (stop_signal() != 0) return "interrupted";
    if (f.max_seconds > 0 && elapsed >= f.max_seconds) return "max-seconds";
    return {};
  };
  const sim::ExploreReport report = check::explore_checked(request);
  const double seconds = seconds_since(start);
  if (f.json) {
    std::cout << result_line(scope, f, limits, shard, report, seconds).dump() << '\n';
  } else {
    print_text(scope, f, limits, shard, report, seconds);
  }
  flush_stdout();  // OutputError (exit 1) when the result could not be written
  if (report.violation) return 1;
  if (report.stopped_by == "interrupted") return interrupted_status();
  return report.exhausted ? 0 : 3;
}

}  // namespace emitlab::cli
