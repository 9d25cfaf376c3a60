// emitlab compare: several strategies, each in its own world on one scenario, side by side with
// what each pair promised and whether it held.
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/comparison.h"
#include "cli/execute.h"
#include "cli/fields.h"
#include "cli/interrupt.h"
#include "cli/options.h"
#include "cli/report.h"
#include "core/echo.h"

namespace emitlab::cli {
namespace {

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
  const auto prepared = prepare(c, args, specs.front());
  if (!prepared) return finish_status(true);
  const View& view = prepared->view;
  const sim::Scenario& scenario = prepared->scenario;
  CommandProgress progress(std::uint64_t{scenario.workload.requests} * specs.size(), "compare",
                           progress_wanted(args));
  const Comparison cmp = compare_strategies(specs, scenario, [&](const sim::Scenario& sc) {
    return run_and_summarize(sc, {}, progress);
  });
  double cpu = 0;
  for (const auto& s : cmp.runs) cpu += s.cpu_seconds;
  if (args.has("--json")) {
    nlohmann::json j{{"strategies", nlohmann::json::array()},
                     {"pairs", nlohmann::json::array()},
                     {"input_independent", cmp.input_independent},
                     {"interrupted", stop_signal() != 0},
                     {"host", {{"cpu_seconds", cpu}}}};
    for (const auto& s : cmp.runs) j["strategies"].push_back(to_json(s));
    for (const auto& p : cmp.pairs) j["pairs"].push_back(to_json(p));
    std::cout << j.dump(2) << '\n';
  } else if (!cmp.runs.empty()) {
    print_comparison(std::cout, cmp.runs, cmp.pairs, view, describe(scenario));
  }
  return finish_status(cmp.ok());
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
  c.flags.push_back(switch_flag("--json", "print JSON instead of text"));
  for (auto& f : view_flags()) c.flags.push_back(std::move(f));
  c.run = compare;
  return c;
}

}  // namespace emitlab::cli
