// emitlab: run emit strategies in the deterministic world, compare what they deliver, and
// replay a run from its token.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <time.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/comparison.h"
#include "cli/demo.h"
#include "cli/options.h"
#include "cli/report.h"
#include "cli/strategies.h"
#include "core/strategy.h"
#include "sim/openssl_mem.h"
#include "sim/pcap_writer.h"
#include "sim/replay.h"
#include "sim/summary.h"
#include "sim/trace.h"
#include "sim/world.h"

namespace {

using emitlab::StrategySpec;
using emitlab::cli::UsageError;
namespace sim = emitlab::sim;
namespace cli = emitlab::cli;

constexpr int kUsageError = 2;

// The host's CPU time: the world's own speed, never part of a run's figures or hashes.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

StrategySpec parse_spec_or_throw(const std::string& text) {
  auto parsed = emitlab::parse_strategy(text);
  if (!parsed.spec) throw UsageError{parsed.error};
  return *parsed.spec;
}

// The files a run writes besides its summary.
class Outputs {
 public:
  explicit Outputs(const cli::OutputFlags& f) {
    cli::check_outputs(f);
    if (!f.trace.empty()) {
      trace_file_ = open(f.trace, "--trace");
      trace_ = std::make_unique<sim::TraceWriter>(*trace_file_);
    }
    if (!f.pcap.empty()) {
      keylog_file_ = open(f.keylog, "--keylog");
      try {
        pcap_ = std::make_unique<sim::PcapWriter>(f.pcap);
      } catch (const std::exception& e) {
        throw UsageError{"bad --pcap '" + f.pcap + "': " + e.what()};
      }
    }
  }
  void attach(sim::RunOptions& o) {
    if (trace_) o.observers.push_back(trace_.get());
    if (pcap_) o.observers.push_back(pcap_.get());
    if (keylog_file_) {
      std::ofstream* out = keylog_file_.get();
      o.keylog = [out](std::string_view line) { *out << line << '\n'; };
    }
  }

 private:
  static std::unique_ptr<std::ofstream> open(const std::string& path, const char* flag) {
    auto f = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
    if (!*f) throw UsageError{std::string("bad ") + flag + " '" + path + "': cannot be written"};
    return f;
  }
  std::unique_ptr<std::ofstream> trace_file_;
  std::unique_ptr<sim::TraceWriter> trace_;
  std::unique_ptr<std::ofstream> keylog_file_;
  std::unique_ptr<sim::PcapWriter> pcap_;
};

sim::Summary run_and_summarize(const sim::Scenario& scenario, sim::RunOptions options,
                               sim::RunResult* keep = nullptr) {
  options.keep_bytes = false;   // hashed as they pass; a 100 x 10,000 run keeps no streams
  options.keep_bodies = false;  // verified as they arrive
  const double start = cpu_seconds();
  sim::RunResult run = sim::run_world(scenario, options);
  const double cpu = cpu_seconds() - start;
  sim::Summary s = sim::summarize(run);
  s.cpu_seconds = cpu;
  s.responses_per_cpu_second = cpu > 0 ? static_cast<double>(s.responses_verified) / cpu : 0;
  if (keep != nullptr) *keep = std::move(run);
  return s;
}

void print(const sim::Summary& s, bool json, const cli::View& view, const sim::Scenario& sc) {
  if (json) {
    std::cout << cli::to_json(s).dump(2) << '\n';
  } else {
    cli::print_summary(std::cout, s, view, cli::describe(sc));
  }
}

bool good(const sim::Summary& s) {
  return s.failure.empty() && s.responses_failed == 0;
}

int cmd_run(const cli::CommonFlags& f, const cli::OutputFlags& out, CLI::App& cmd,
            const std::string& strategy, const cli::View& view) {
  cli::chosen_fields(view);  // a bad --fields is bad input before any run
  sim::Scenario scenario = cli::make_scenario(f, sim::Pacing::ClosedLoop);
  if (cmd.count("--strategy") > 0 || f.scenario_file.empty()) {
    scenario.strategy = parse_spec_or_throw(strategy);
  }
  if (f.print_scenario) {
    std::cout << sim::canonical_json(scenario) << '\n';
    return 0;
  }
  Outputs outputs(out);
  sim::RunOptions options;
  outputs.attach(options);
  const sim::Summary s = run_and_summarize(scenario, options);
  print(s, out.json, view, scenario);
  return good(s) ? 0 : 1;
}

std::vector<StrategySpec> parse_list(const std::string& list) {
  std::vector<StrategySpec> specs;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    const std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) throw UsageError{"bad --strategies '" + list + "': empty entry"};
    specs.push_back(parse_spec_or_throw(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (specs.size() < 2) throw UsageError{"--strategies needs at least two strategies"};
  return specs;
}

int cmd_compare(const cli::CommonFlags& f, bool json, const std::string& list,
                const cli::View& view) {
  const auto specs = parse_list(list);
  cli::chosen_fields(view);
  sim::Scenario scenario = cli::make_scenario(f, sim::Pacing::Lockstep);
  scenario.strategy = specs.front();
  if (f.print_scenario) {
    std::cout << sim::canonical_json(scenario) << '\n';
    return 0;
  }
  const cli::Comparison c = cli::compare_strategies(
      specs, scenario, [](const sim::Scenario& sc) { return run_and_summarize(sc, {}); });
  const auto& runs = c.runs;
  const auto& pairs = c.pairs;
  const bool input_independent = c.input_independent;
  const bool ok = c.ok();
  double cpu = 0;
  for (const auto& s : runs) cpu += s.cpu_seconds;
  if (json) {
    nlohmann::json j{{"strategies", nlohmann::json::array()},
                     {"pairs", nlohmann::json::array()},
                     {"input_independent", input_independent},
                     {"host", {{"cpu_seconds", cpu}}}};
    for (const auto& s : runs) j["strategies"].push_back(cli::to_json(s));
    for (const auto& p : pairs) j["pairs"].push_back(cli::to_json(p));
    std::cout << j.dump(2) << '\n';
  } else {
    cli::print_comparison(std::cout, runs, pairs, view, cli::describe(scenario));
  }
  return ok ? 0 : 1;
}

int cmd_replay(const std::string& text, const cli::OutputFlags& out, const cli::View& view) {
  cli::chosen_fields(view);
  auto parsed = sim::decode(text);
  if (!parsed.token) throw UsageError{parsed.error};
  const sim::ReplayToken& token = *parsed.token;
  const sim::BuildIdentity here = sim::this_build();
  if (!(token.build == here)) {
    throw UsageError{"replay token from another build (" + token.build.text() +
                     "); this build is " + here.text() + ": its run would not reproduce"};
  }
  Outputs outputs(out);
  sim::RunOptions options;
  outputs.attach(options);
  std::optional<sim::ListChoices> recorded;
  if (token.choices) {
    recorded.emplace(*token.choices);
    options.choices = &*recorded;
  }
  sim::RunResult run;
  sim::Summary s = run_and_summarize(token.scenario, options, &run);
  const std::string mismatch = sim::replay_mismatch(token, run);
  if (!mismatch.empty() && s.failure.empty()) s.failure = mismatch;
  print(s, out.json, view, token.scenario);
  return good(s) && mismatch.empty() ? 0 : 1;
}

bool is_command(const CLI::App& app, const std::string& word) {
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == word) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything else touches OpenSSL: its allocations can only be counted from the start.
  sim::install_openssl_mem_hooks();
  CLI::App app{"emitlab: HTTP/2-over-TLS emit strategies in a deterministic world"};
  app.require_subcommand(1);

  cli::CommonFlags run_flags;
  cli::OutputFlags run_out;
  std::string strategy = "drain";
  auto* run = app.add_subcommand("run", "run one strategy and print its figures");
  run->add_option("--strategy", strategy, "strategy spec, e.g. drain or gather");
  cli::add_common(*run, run_flags);
  cli::add_outputs(*run, run_out);
  cli::View run_view;
  cli::add_view_flags(*run, run_view);

  cli::CommonFlags cmp_flags;
  bool cmp_json = false;
  // By default, compare every base and the Track A combinations the question is about.
  std::string strategies = cli::kDefaultStrategies;
  auto* compare = app.add_subcommand("compare", "run strategies on one workload and compare");
  compare->add_option("--strategies", strategies, "comma-separated strategy specs");
  cli::add_common(*compare, cmp_flags);
  compare->add_flag("--json", cmp_json, "print JSON");
  cli::View cmp_view;
  cli::add_view_flags(*compare, cmp_view);

  std::string token;
  cli::OutputFlags replay_out;
  auto* replay = app.add_subcommand("replay", "rerun a run from its replay token");
  replay->add_option("token", token, "the replay token of a summary")->required();
  cli::add_outputs(*replay, replay_out);
  cli::View replay_view;
  cli::add_view_flags(*replay, replay_view);

  auto* demo = app.add_subcommand("demo", "the default strategies on 3 B and 64 KiB bodies");

  bool strategies_json = false;
  auto* list = app.add_subcommand("strategies", "list the bases, options and promises");
  list->add_flag("--json", strategies_json, "print JSON");

  if (argc > 1 && argv[1][0] != '-' && !is_command(app, argv[1])) {
    std::cerr << "emitlab: unknown command '" << argv[1]
              << "'; expected one of run, compare, replay, strategies, demo\n";
    return kUsageError;
  }
  try {
    app.parse(argc, argv);
    if (run->parsed()) return cmd_run(run_flags, run_out, *run, strategy, run_view);
    if (replay->parsed()) return cmd_replay(token, replay_out, replay_view);
    if (list->parsed()) return cli::cmd_strategies(std::cout, strategies_json);
    if (demo->parsed()) {
      return cli::cmd_demo(std::cout,
                           [](const sim::Scenario& sc) { return run_and_summarize(sc, {}); });
    }
    return cmd_compare(cmp_flags, cmp_json, strategies, cmp_view);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "emitlab: " << e.what() << '\n';
    return kUsageError;
  } catch (const UsageError& e) {
    std::cerr << "emitlab: " << e.message << '\n';
    return kUsageError;
  }
}
