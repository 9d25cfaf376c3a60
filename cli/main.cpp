// emitlab: run emit strategies in the deterministic world, compare what they deliver, and
// replay a run from its token.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <time.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "check/checked_run.h"
#include "cli/explore.h"
#include "cli/merge.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/serve_command.h"
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
                               sim::RunResult* keep = nullptr, bool progress = true) {
  options.keep_bytes = false;    // hashed as they pass; a 100 x 10,000 run keeps no streams
  options.keep_bodies = false;   // verified as they arrive
  options.keep_history = false;  // summarised from RunResult::stats as the run goes
  std::atomic<std::uint64_t> done{0};
  options.progress = &done;
  const double start = cpu_seconds();
  sim::RunResult run;
  {
    const cli::ProgressLine line(done, scenario.workload.requests, scenario.strategy.name(),
                                 std::cerr, progress);
    run = sim::run_world(scenario, options);
  }
  const double cpu = cpu_seconds() - start;
  sim::Summary s = sim::summarize(run);
  s.cpu_seconds = cpu;
  s.responses_per_cpu_second = cpu > 0 ? static_cast<double>(s.responses_verified) / cpu : 0;
  if (keep != nullptr) *keep = std::move(run);
  return s;
}

void print(const sim::Summary& s, bool json) {
  if (json) {
    std::cout << cli::to_json(s).dump(2) << '\n';
  } else {
    cli::print_summary(std::cout, s);
  }
}

bool good(const sim::Summary& s) {
  return s.failure.empty() && s.responses_failed == 0;
}

int cmd_run(const cli::CommonFlags& f, const cli::OutputFlags& out, CLI::App& cmd,
            const std::string& strategy) {
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
  const sim::Summary s = run_and_summarize(scenario, options, nullptr, !f.quiet && !out.json);
  print(s, out.json);
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

int cmd_compare(const cli::CommonFlags& f, bool json, const std::string& list) {
  const auto specs = parse_list(list);
  sim::Scenario scenario = cli::make_scenario(f, sim::Pacing::Lockstep);
  scenario.strategy = specs.front();
  if (f.print_scenario) {
    std::cout << sim::canonical_json(scenario) << '\n';
    return 0;
  }
  std::vector<sim::Summary> runs;
  double cpu = 0;
  for (const auto& spec : specs) {
    scenario.strategy = spec;
    runs.push_back(run_and_summarize(scenario, {}, nullptr, !f.quiet && !json));
    cpu += runs.back().cpu_seconds;
  }
  // Only a run whose input cannot depend on timing promises equal application streams.
  const bool input_independent = scenario.input_independent();
  std::vector<cli::PairVerdict> pairs;
  bool ok = true;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    ok = ok && good(runs[i]);
    for (std::size_t j = i + 1; j < runs.size(); ++j) {
      const auto promise = emitlab::promise_between(specs[i], specs[j], input_independent);
      cli::PairVerdict p{runs[i].strategy,
                         runs[j].strategy,
                         runs[i].app_sha256 == runs[j].app_sha256,
                         runs[i].wire_sha256 == runs[j].wire_sha256,
                         promise.same_app_stream,
                         promise.same_wire};
      ok = ok && !p.broken();
      pairs.push_back(p);
    }
  }
  if (json) {
    nlohmann::json j{{"strategies", nlohmann::json::array()},
                     {"pairs", nlohmann::json::array()},
                     {"input_independent", input_independent},
                     {"host", {{"cpu_seconds", cpu}}}};
    for (const auto& s : runs) j["strategies"].push_back(cli::to_json(s));
    for (const auto& p : pairs) j["pairs"].push_back(cli::to_json(p));
    std::cout << j.dump(2) << '\n';
  } else {
    cli::print_comparison(std::cout, runs, pairs);
  }
  return ok ? 0 : 1;
}

int cmd_replay(const std::string& text, const cli::OutputFlags& out) {
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
  sim::Summary s = run_and_summarize(token.scenario, options, &run, !out.json);
  const std::string mismatch = sim::replay_mismatch(token, run);
  if (!mismatch.empty() && s.failure.empty()) s.failure = mismatch;
  // The same run again with every rule checked (check/rules.h): a schedule the explorer or a
  // property found is reported with the rule it breaks (in --json, as the key "violation").
  std::optional<sim::ListChoices> again;
  emitlab::check::CheckOptions checked;
  if (token.choices) {
    again.emplace(*token.choices);
    checked.choices = &*again;
  }
  checked.keep_bytes = false;
  const auto verdict = emitlab::check::run_checked(token.scenario, checked);
  if (out.json) {
    nlohmann::json j = cli::to_json(s);
    if (verdict.finding) j["violation"] = verdict.finding->line();
    std::cout << j.dump(2) << '\n';
  } else {
    print(s, false);
    if (verdict.finding) std::cout << "violation: " << verdict.finding->line() << '\n';
  }
  return good(s) && mismatch.empty() && !verdict.finding ? 0 : 1;
}

// `emitlab merge FILES... [--json]` (cli/merge.h): exit 0 clean, 1 violation, 2 bad or
// incomplete shards, 3 stopped by a bound.
int cmd_merge(const std::vector<std::string>& paths, bool json) {
  std::vector<cli::ShardFile> files;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError{"bad shard file '" + path + "': cannot be read"};
    files.push_back({path, std::string((std::istreambuf_iterator<char>(in)),
                                       std::istreambuf_iterator<char>())});
    if (in.bad()) throw UsageError{"bad shard file '" + path + "': read error"};
  }
  auto merged = cli::merge_shards(files);
  if (const auto* error = std::get_if<std::string>(&merged)) throw UsageError{*error};
  const auto& m = std::get<cli::Merged>(merged);
  if (json) {
    std::cout << m.result.dump() << '\n';
  } else {
    cli::print_merged(std::cout, m);
  }
  std::cout.flush();
  if (!std::cout) throw UsageError{"the merged result could not be written to stdout"};
  return m.exit_code;
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
  // `serve` counts nothing inside OpenSSL and runs without the hooks, like the servers it is
  // measured against.
  if (argc < 2 || std::string(argv[1]) != "serve") sim::install_openssl_mem_hooks();
  CLI::App app{"emitlab: HTTP/2-over-TLS emit strategies in a deterministic world"};
  app.require_subcommand(1);

  cli::CommonFlags run_flags;
  cli::OutputFlags run_out;
  std::string strategy = "drain";
  auto* run = app.add_subcommand("run", "run one strategy and print its figures");
  run->add_option("--strategy", strategy, "strategy spec, e.g. drain or gather");
  cli::add_common(*run, run_flags);
  cli::add_outputs(*run, run_out);

  cli::CommonFlags cmp_flags;
  bool cmp_json = false;
  // By default, compare every base and the Track A combinations the question is about.
  std::string strategies =
      "drain,gather,gather+A1,gather+A2,gather+A3,gather+A1+A3,gather+A1+A2+A3,"
      "gather+A1+A2+A3@cap=64K,hybrid,hybrid+A1+A2+A3";
  auto* compare = app.add_subcommand("compare", "run strategies on one workload and compare");
  compare->add_option("--strategies", strategies, "comma-separated strategy specs");
  cli::add_common(*compare, cmp_flags);
  compare->add_flag("--json", cmp_json, "print JSON");

  std::string token;
  cli::OutputFlags replay_out;
  auto* replay = app.add_subcommand("replay", "rerun a run from its replay token");
  replay->add_option("token", token, "the replay token of a summary")->required();
  cli::add_outputs(*replay, replay_out);

  cli::ExploreFlags explore_flags;
  auto* explore = cli::add_explore(app, explore_flags);

  bool strategies_json = false;
  auto* list = app.add_subcommand("strategies", "list the bases, options and promises");
  list->add_flag("--json", strategies_json, "print JSON");

  cli::ServeFlags serve_flags;
  cli::add_serve_command(app, serve_flags);

  std::vector<std::string> merge_files;
  bool merge_json = false;
  auto* merge = app.add_subcommand("merge", "merge a sharded campaign's result lines into one");
  merge->add_option("files", merge_files, "the shards' result files (JSON lines)")->required();
  merge->add_flag("--json", merge_json, "print the merged result as one JSON line");

  if (argc > 1 && argv[1][0] != '-' && !is_command(app, argv[1])) {
    std::cerr << "emitlab: unknown command '" << argv[1]
              << "'; expected one of run, compare, replay, explore, strategies, merge, serve\n";
    return kUsageError;
  }
  try {
    app.parse(argc, argv);
    if (run->parsed()) return cmd_run(run_flags, run_out, *run, strategy);
    if (replay->parsed()) return cmd_replay(token, replay_out);
    if (list->parsed()) return cli::cmd_strategies(std::cout, strategies_json);
    if (explore->parsed()) return cli::cmd_explore(*explore, explore_flags);
    if (serve_flags.cmd->parsed()) return cli::cmd_serve(serve_flags);
    if (merge->parsed()) return cmd_merge(merge_files, merge_json);
    return cmd_compare(cmp_flags, cmp_json, strategies);
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
