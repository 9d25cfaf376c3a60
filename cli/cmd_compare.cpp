// emitlab compare: several strategies, each in its own world on one scenario, side by side with
// what each pair promised and whether it held.
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/execute.h"
#include "cli/interrupt.h"
#include "cli/options.h"
#include "cli/report.h"
#include "core/echo.h"

namespace emitlab::cli {
namespace {

// By default, every base and the Track A combinations the question is about.
constexpr const char* kDefaultStrategies =
    "drain,gather,gather+A1,gather+A2,gather+A3,gather+A1+A3,gather+A1+A2+A3,"
    "gather+A1+A2+A3@cap=64K,hybrid,hybrid+A1+A2+A3";

std::vector<StrategySpec> parse_list(const std::string& list) {
  std::vector<StrategySpec> specs;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    const std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) throw UsageError{"bad --strategies " + echo(list) + ": empty entry"};
    auto parsed = parse_strategy(item);
    if (!parsed.spec) throw UsageError{"bad --strategies " + echo(list) + ": " + parsed.error};
    specs.push_back(*parsed.spec);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (specs.size() < 2) throw UsageError{"--strategies needs at least two strategies"};
  return specs;
}

int compare(const Command& c, const Args& args) {
  const auto specs = parse_list(args.value("--strategies", kDefaultStrategies));
  sim::Scenario scenario = make_scenario(c, args);
  scenario.strategy = specs.front();
  if (args.has("--print-scenario")) {
    std::cout << sim::canonical_json(scenario) << '\n';
    return finish_status(true);
  }
  std::vector<sim::Summary> runs;
  double cpu = 0;
  for (const auto& spec : specs) {
    if (stop_signal() != 0) break;  // interrupted: report the strategies that ran
    scenario.strategy = spec;
    runs.push_back(run_and_summarize(scenario, {}, nullptr, progress_wanted(args)));
    cpu += runs.back().cpu_seconds;
  }
  // Only a run whose input cannot depend on timing promises equal application streams.
  const bool input_independent = scenario.input_independent();
  std::vector<PairVerdict> pairs;
  bool ok = true;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    ok = ok && good(runs[i]);
    for (std::size_t j = i + 1; j < runs.size(); ++j) {
      if (runs[i].interrupted || runs[j].interrupted) continue;  // hashes of a part-run
      const auto promise = promise_between(specs[i], specs[j], input_independent);
      PairVerdict p{runs[i].strategy,
                    runs[j].strategy,
                    runs[i].app_sha256 == runs[j].app_sha256,
                    runs[i].wire_sha256 == runs[j].wire_sha256,
                    promise.same_app_stream,
                    promise.same_wire};
      ok = ok && !p.broken();
      pairs.push_back(p);
    }
  }
  if (args.has("--json")) {
    nlohmann::json j{{"strategies", nlohmann::json::array()},
                     {"pairs", nlohmann::json::array()},
                     {"input_independent", input_independent},
                     {"interrupted", stop_signal() != 0},
                     {"host", {{"cpu_seconds", cpu}}}};
    for (const auto& s : runs) j["strategies"].push_back(to_json(s));
    for (const auto& p : pairs) j["pairs"].push_back(to_json(p));
    std::cout << j.dump(2) << '\n';
  } else {
    print_comparison(std::cout, runs, pairs);
  }
  return finish_status(ok);
}

}  // namespace

Command compare_command() {
  Command c;
  c.name = "compare";
  c.summary = "run strategies on one scenario and compare what they deliver and promise";
  c.example = "compare --strategies drain,gather,hybrid --connections 10 --concurrency 32";
  c.defaults.workload.pacing = sim::Pacing::Lockstep;
  Flag list;
  list.name = "--strategies";
  list.metavar = "LIST";
  list.help = "the strategy specs to compare, comma-separated";
  list.allowed = "two or more specs";
  list.default_text = "drain, gather, each Track A option and combination, hybrid";
  c.flags.push_back(list);
  for (auto& f : scenario_flags()) c.flags.push_back(std::move(f));
  Flag json;
  json.name = "--json";
  json.help = "print JSON instead of text";
  c.flags.push_back(json);
  c.run = compare;
  return c;
}

}  // namespace emitlab::cli
