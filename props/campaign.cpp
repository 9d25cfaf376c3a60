#include "props/campaign.h"

#include <CLI/CLI.hpp>

#include <signal.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "props/runner.h"

namespace emitlab::props {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kDefaultSeed = 20240521;  // the props binaries' default too
static_assert(kMaxShards <= (1 << 30), "case indices and shard counts stay within int");

// SplitMix64's finalizer: a bijection that spreads neighbouring inputs over the whole range.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The case's value, or nullopt when drawing it threw (a generator's failure is a finding).
std::optional<Case> value_of(const rc::Shrinkable<Case>& s, std::string* error) {
  try {
    return s.value();
  } catch (const std::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
}

struct Shrunk {
  Case c;
  Verdict v;
  int steps = 0;
};

// RapidCheck's search: take the first shrink that still fails, and start again from it.
Shrunk shrink(const PropertyDef& def, rc::Shrinkable<Case> current, Case c, Verdict v) {
  Shrunk out{std::move(c), std::move(v), 0};
  int tries = 0;
  bool progressed = true;
  while (progressed && tries < kMaxShrinkTries) {
    progressed = false;
    auto seq = current.shrinks();
    while (tries < kMaxShrinkTries) {
      auto next = seq.next();
      if (!next) break;
      ++tries;
      std::string ignored;  // a shrink that cannot be drawn is no counterexample
      auto candidate = value_of(*next, &ignored);
      if (!candidate) continue;
      Verdict verdict = check_case(def, *candidate);
      if (!verdict.finding) continue;
      out = Shrunk{std::move(*candidate), std::move(verdict), out.steps + 1};
      current = *next;
      progressed = true;
      break;
    }
  }
  return out;
}

// SIGINT and SIGTERM (a cluster's time limit) stop the shard before its next case, so that its
// line is written; a second signal of the same kind ends the process as usual.
std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_signal = 0;
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");
extern "C" void on_stop_signal(int sig) {
  g_signal = sig;
  g_stop.store(true, std::memory_order_relaxed);
}
void stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

std::string shard_name(const CampaignSpec& spec) {
  return std::string(spec.def->name) + " shard " + std::to_string(spec.shard.index) + "/" +
         std::to_string(spec.shard.count);
}

}  // namespace

CaseDraw case_draw(std::uint64_t campaign_seed, int index, int total) {
  CaseDraw d;
  d.seed = mix(mix(campaign_seed) ^ static_cast<std::uint64_t>(index));
  d.size = total <= 1 ? 0
                      : static_cast<int>(std::min<std::int64_t>(
                            kMaxCaseSize, std::int64_t{index} * (kMaxCaseSize + 1) / total));
  return d;
}

bool runs_case(const Shard& s, int index) {
  return index % s.count == s.index;
}

ShardResult run_shard(const CampaignSpec& spec, const CaseObserver& observer) {
  const PropertyDef& def = *spec.def;
  const auto start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  const rc::Gen<Case> gen = def.gen();
  const int mine =
      spec.cases / spec.shard.count + (spec.shard.index < spec.cases % spec.shard.count ? 1 : 0);
  const int step = std::max(1, mine / 10);
  ShardResult r;
  for (int i = spec.shard.index; i < spec.cases; i += spec.shard.count) {
    if (spec.stop != nullptr && spec.stop->load(std::memory_order_relaxed)) {
      r.interrupted = true;
      break;
    }
    const CaseDraw draw = case_draw(spec.seed, i, spec.cases);
    if (observer) observer(i, draw);
    const rc::Shrinkable<Case> drawn = gen(rc::Random(draw.seed), draw.size);
    ++r.cases;
    std::string error;
    const auto c = value_of(drawn, &error);
    Verdict v;
    if (c) {
      v = check_case(def, *c);
    } else {
      v.finding = Finding{"generation", error};
    }
    if (spec.progress && (r.cases % step == 0 || r.cases == mine)) {
      // The estimate: the mean time per case so far times the cases left.
      const double t = elapsed();
      char line[160];
      std::snprintf(line, sizeof line, "%d/%d cases, %.1f s elapsed, about %.0f s left", r.cases,
                    mine, t, r.cases > 0 ? t / r.cases * (mine - r.cases) : 0.0);
      std::cerr << "[campaign] " << shard_name(spec) << ": " << line << "\n";
    }
    if (!v.finding) continue;
    if (spec.progress)
      std::cerr << "[campaign] " << shard_name(spec) << ": case " << i << " fails ("
                << v.finding->rule << "), shrinking\n";
    ShardViolation out;
    out.index = i;
    if (c) {
      Shrunk s = shrink(def, drawn, *c, std::move(v));
      out.rule = s.v.finding->rule;
      out.detail = s.v.finding->detail;
      out.replay = replay_command(def, s.c, s.v);
      out.schedule = "case " + std::to_string(i) + " (seed " + std::to_string(draw.seed) +
                     ", size " + std::to_string(draw.size) + "), shrunk in " +
                     std::to_string(s.steps) + " steps";
    } else {
      out.rule = v.finding->rule;
      out.detail = v.finding->detail;
      out.schedule = "case " + std::to_string(i) + " (seed " + std::to_string(draw.seed) +
                     ", size " + std::to_string(draw.size) + "): could not be drawn";
    }
    r.violation = std::move(out);
    break;
  }
  r.seconds = elapsed();
  return r;
}

nlohmann::json shard_json(const CampaignSpec& spec, const ShardResult& result) {
  using nlohmann::json;
  json violations = json::array();
  if (const auto& v = result.violation) {
    violations.push_back({{"rule", v->rule},
                          {"detail", v->detail},
                          {"deviations", 0},
                          {"ordinal", json::array({v->index})},
                          {"schedule", v->schedule},
                          {"replay", v->replay}});
  }
  return json{
      {"emitlab_campaign", 1},
      {"kind", "props"},
      {"campaign",
       {{"property", spec.def->name}, {"seed", spec.seed}, {"cases", spec.cases}, {"mutant", ""}}},
      {"shard", spec.shard.index},
      {"shards", spec.shard.count},
      {"schedules", 0},
      {"cases", result.cases},
      {"distinct_states", 0},
      {"pruned", 0},
      {"exhausted", result.exhausted()},
      {"stopped_by", result.violation     ? json("violation")
                     : result.interrupted ? json("interrupted")
                                          : json(nullptr)},
      {"seconds", result.seconds},
      {"violations", std::move(violations)}};
}

int campaign_main(int argc, char** argv) {
  CLI::App app{"props_campaign: one shard of a property campaign, as one JSON line"};
  std::string property;
  std::uint64_t seed = kDefaultSeed;
  int cases = 0;
  std::string shard_text = "0/1";
  std::string out_path;
  app.add_option("--property", property, "the suite property to check")->required();
  app.add_option("--seed", seed, "the campaign's seed (default 20240521)");
  app.add_option("--cases", cases, "cases in the whole campaign (default: the property's budget)");
  app.add_option("--shard", shard_text, "K/N, or auto (Slurm array / Kubernetes Indexed Job)");
  app.add_option("--out", out_path, "write the line to FILE instead of stdout");
  bool quiet = false;
  app.add_flag("--quiet", quiet, "no progress lines on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "props_campaign: " << e.what() << '\n';
    return 2;
  }
  CampaignSpec spec;
  spec.def = find_property(property);
  if (spec.def == nullptr) {
    std::string names;
    for (const auto& def : suite_properties())
      names += std::string(names.empty() ? "" : ", ") + def.name;
    std::cerr << "props_campaign: bad --property '" << property << "': expected one of " << names
              << "\n";
    return 2;
  }
  if (app.count("--cases") > 0 && cases < 1) {
    std::cerr << "props_campaign: bad --cases '" << cases << "': expected at least 1\n";
    return 2;
  }
  spec.cases = app.count("--cases") > 0 ? cases : spec.def->base_cases;
  spec.seed = seed;
  const ShardParse shard = parse_shard(shard_text);
  if (!shard.shard) return std::cerr << "props_campaign: " << shard.error << "\n", 2;
  spec.shard = *shard.shard;
  spec.progress = !quiet;
  // Before --out is opened: from then on a signal ends the shard with its line written.
  stop_on_signals();
  spec.stop = &g_stop;
  std::ofstream file;
  if (!out_path.empty()) {
    file.open(out_path, std::ios::trunc);
    if (!file) {
      std::cerr << "props_campaign: bad --out '" << out_path << "': cannot be written\n";
      return 2;
    }
  }
  const ShardResult result = run_shard(spec);
  std::ostream& out = out_path.empty() ? std::cout : file;
  out << shard_json(spec, result).dump() << '\n' << std::flush;
  bool written = static_cast<bool>(out);
  if (!out_path.empty()) {
    file.close();  // a full disk can fail only here
    written = written && !file.fail();
  }
  if (!written) {
    std::cerr << "props_campaign: could not write the result line to "
              << (out_path.empty() ? "standard output" : "--out '" + out_path + "'")
              << " (the result is lost)\n";
    return 1;
  }
  if (result.interrupted) {
    std::cerr << "[campaign] " << shard_name(spec) << ": interrupted after " << result.cases
              << " cases; the line says so (stopped_by \"interrupted\")\n";
    return 128 + g_signal;
  }
  if (spec.progress)
    std::cerr << "[campaign] " << shard_name(spec) << ": "
              << (result.violation ? "violation " + result.violation->rule : "clean") << ", "
              << result.cases << " cases, " << result.seconds << " s\n";
  return result.violation ? 1 : 0;
}

}  // namespace emitlab::props
