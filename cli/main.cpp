// emitlab: run emit strategies in the deterministic world and compare what they deliver.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/report.h"
#include "core/byte_size.h"
#include "core/strategy.h"
#include "sim/summary.h"
#include "sim/world.h"

namespace {

using emitlab::StrategySpec;
namespace sim = emitlab::sim;
namespace cli = emitlab::cli;

constexpr int kUsageError = 2;
constexpr std::size_t kMaxPayload = std::size_t{1} << 30;  // the peer opens a 2 GiB window

struct UsageError {
  std::string message;
};

struct CommonFlags {
  std::uint32_t streams = 100;
  std::string body = "3";
  std::uint64_t seed = 1;
  std::size_t cipher_ring = 0;
  std::string completions = "async";
  bool json = false;
};

void add_common(CLI::App& cmd, CommonFlags& f) {
  cmd.add_option("--streams", f.streams, "concurrent streams (and requests) on one connection")
      ->check(CLI::Range(1U, 100000U));
  cmd.add_option("--body", f.body, "body size of every response: bytes, or N with K/KiB/M/MiB");
  cmd.add_option("--seed", f.seed, "seed of the world (TLS randomness and body bytes)");
  cmd.add_option("--cipher-ring", f.cipher_ring,
                 "cipher-out ring of K x 17408 bytes, K = 1..16 (default 64 KiB)")
      ->check(CLI::Range(1, 16));
  cmd.add_option("--completions", f.completions,
                 "sync: a write completes inside its submit; async: one step later")
      ->check(CLI::IsMember({"sync", "async"}));
  cmd.add_flag("--json", f.json, "print JSON");
}

StrategySpec parse_spec_or_throw(const std::string& text) {
  auto parsed = emitlab::parse_strategy(text);
  if (!parsed.spec) throw UsageError{parsed.error};
  return *parsed.spec;
}

sim::RunConfig make_config(const CommonFlags& f, const StrategySpec& spec) {
  const auto body = emitlab::parse_byte_size(f.body);
  if (!body) {
    throw UsageError{"bad --body '" + f.body + "': expected bytes or N with K/KiB/M/MiB"};
  }
  if (*body > kMaxPayload / f.streams) {
    throw UsageError{"--streams " + std::to_string(f.streams) + " x --body " + f.body +
                     " exceeds 1 GiB of response bodies on one connection"};
  }
  sim::RunConfig c;
  c.strategy = spec;
  c.streams = f.streams;
  c.body_size = *body;
  c.seed = f.seed;
  c.cipher_ring_records = f.cipher_ring;
  c.completions = f.completions == "sync" ? sim::Completions::Sync : sim::Completions::NextStep;
  return c;
}

int cmd_run(const CommonFlags& f, const std::string& strategy) {
  const auto config = make_config(f, parse_spec_or_throw(strategy));
  const auto summary = sim::summarize(sim::run_world(config));
  if (f.json) {
    std::cout << cli::to_json(summary).dump(2) << '\n';
  } else {
    cli::print_summary(std::cout, summary);
  }
  return summary.failure.empty() && summary.responses_failed == 0 ? 0 : 1;
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

int cmd_compare(const CommonFlags& f, const std::string& list) {
  const auto specs = parse_list(list);
  std::vector<sim::Summary> runs;
  for (const auto& spec : specs) runs.push_back(sim::summarize(sim::run_world(make_config(f, spec))));
  std::vector<cli::PairVerdict> pairs;
  bool ok = true;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    ok = ok && runs[i].failure.empty() && runs[i].responses_failed == 0;
    for (std::size_t j = i + 1; j < runs.size(); ++j) {
      // The foundation's peer sends in lockstep: its input never depends on timing.
      const auto promise = emitlab::promise_between(specs[i], specs[j], true);
      cli::PairVerdict p{runs[i].strategy, runs[j].strategy,
                         runs[i].app_sha256 == runs[j].app_sha256,
                         runs[i].wire_sha256 == runs[j].wire_sha256, promise.same_app_stream,
                         promise.same_wire};
      ok = ok && !p.broken();
      pairs.push_back(p);
    }
  }
  if (f.json) {
    nlohmann::json j{{"strategies", nlohmann::json::array()}, {"pairs", nlohmann::json::array()}};
    for (const auto& s : runs) j["strategies"].push_back(cli::to_json(s));
    for (const auto& p : pairs) j["pairs"].push_back(cli::to_json(p));
    std::cout << j.dump(2) << '\n';
  } else {
    cli::print_comparison(std::cout, runs, pairs);
  }
  return ok ? 0 : 1;
}

bool is_command(const CLI::App& app, const std::string& word) {
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == word) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"emitlab: HTTP/2-over-TLS emit strategies in a deterministic world"};
  app.require_subcommand(1);
  CommonFlags run_flags;
  std::string strategy = "drain";
  auto* run = app.add_subcommand("run", "run one strategy and print its figures");
  run->add_option("--strategy", strategy, "strategy spec, e.g. drain or gather");
  add_common(*run, run_flags);

  CommonFlags cmp_flags;
  std::string strategies = "drain,gather";
  auto* compare = app.add_subcommand("compare", "run strategies on one workload and compare");
  compare->add_option("--strategies", strategies, "comma-separated strategy specs");
  add_common(*compare, cmp_flags);

  if (argc > 1 && argv[1][0] != '-' && !is_command(app, argv[1])) {
    std::cerr << "emitlab: unknown command '" << argv[1] << "'; expected one of run, compare\n";
    return kUsageError;
  }
  try {
    app.parse(argc, argv);
    if (run->parsed()) return cmd_run(run_flags, strategy);
    return cmd_compare(cmp_flags, strategies);
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
