#include "cli/strategies.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/outputs.h"
#include "core/strategy.h"

namespace emitlab::cli {
namespace {

struct PromiseRule {
  const char* name;
  const char* rule;
};

const std::vector<PromiseRule>& promise_rules() {
  static const std::vector<PromiseRule> kRules = {
      {"application stream",
       "every strategy delivers the same decrypted application stream as drain on "
       "input-independent runs (lockstep pacing, wide windows, no PING, reset, GOAWAY, abrupt "
       "close, handler delay or streaming body)"},
      {"ciphertext",
       "A1, A2 and A3 change no SSL_write call: a strategy makes the same SSL_write sequence, "
       "hence the same ciphertext, as the same base with the same cap and threshold without "
       "them, on every run"},
      {"per stream",
       "on every run each stream delivers exactly what was submitted, or ends in a reset or "
       "failure the run reports"},
  };
  return kRules;
}

// The strategies that promise the same ciphertext as `base` without options: every subset of
// the options, the first option varying fastest.
std::vector<std::string> wire_group(StrategyBase base) {
  constexpr std::size_t kOptions = std::size(kTrackAOptions);
  std::vector<std::string> group;
  for (std::size_t mask = 0; mask < (std::size_t{1} << kOptions); ++mask) {
    StrategySpec s;
    s.base = base;
    for (std::size_t i = 0; i < kOptions; ++i) s.*kTrackAOptions[i].member = (mask >> i & 1) != 0;
    group.push_back(s.name());
  }
  return group;
}

void print_text(std::ostream& out) {
  out << "grammar: " << strategy_grammar() << "\n\n";
  for (const char* kind : {"base", "option", "parameter"}) {
    out << kind << "s\n";
    for (const auto& e : strategy_catalog()) {
      if (e.kind == kind) out << "  " << e.name << "\n      " << e.what << '\n';
    }
  }
  out << "\npromises\n";
  for (const auto& p : promise_rules()) out << "  " << p.name << ": " << p.rule << '\n';
  out << "\nsame ciphertext (at any one cap and threshold)\n";
  for (auto base : {StrategyBase::Gather, StrategyBase::Hybrid}) {
    out << " ";
    for (const auto& name : wire_group(base)) out << ' ' << name;
    out << '\n';
  }
}

nlohmann::json as_json() {
  nlohmann::json j{{"grammar", strategy_grammar()},
                   {"entries", nlohmann::json::array()},
                   {"promises", nlohmann::json::array()},
                   {"same_ciphertext", nlohmann::json::array()}};
  for (const auto& e : strategy_catalog()) {
    j["entries"].push_back({{"name", e.name}, {"kind", e.kind}, {"what", e.what}});
  }
  for (const auto& p : promise_rules())
    j["promises"].push_back({{"name", p.name}, {"rule", p.rule}});
  for (auto base : {StrategyBase::Gather, StrategyBase::Hybrid}) {
    j["same_ciphertext"].push_back(wire_group(base));
  }
  return j;
}

}  // namespace

int cmd_strategies(std::ostream& out, bool json) {
  if (json) {
    out << as_json().dump(2) << '\n';
  } else {
    print_text(out);
  }
  return 0;
}

}  // namespace emitlab::cli

namespace emitlab::cli {

Command strategies_command() {
  Command c;
  c.name = "strategies";
  c.summary = "list the bases, options and parameters, and what strategies promise each other";
  c.example = "strategies --json";
  Flag json;
  json.name = "--json";
  json.help = "print JSON instead of text";
  c.flags.push_back(json);
  c.run = [](const Command&, const Args& args) {
    const int status = cmd_strategies(std::cout, args.has("--json"));
    flush_stdout();
    return status;
  };
  return c;
}

}  // namespace emitlab::cli
