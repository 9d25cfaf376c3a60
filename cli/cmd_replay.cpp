// emitlab replay: rerun a run from the replay token of its summary.
#include <nlohmann/json.hpp>

#include <iostream>
#include <optional>

#include "check/checked_run.h"
#include "cli/commands.h"
#include "cli/execute.h"
#include "cli/fields.h"
#include "cli/interrupt.h"
#include "cli/options.h"
#include "cli/outputs.h"
#include "cli/report.h"
#include "sim/replay.h"

namespace emitlab::cli {
namespace {

int replay(const Command&, const Args& args) {
  const View view = view_of(args);
  auto parsed = sim::decode(args.value("TOKEN"));
  if (!parsed.token) throw UsageError{parsed.error};
  const sim::ReplayToken& token = *parsed.token;
  const sim::BuildIdentity here = sim::this_build();
  if (!(token.build == here)) {
    throw UsageError{"replay token from another build (" + token.build.text() +
                     "); this build is " + here.text() + ": its run would not reproduce"};
  }
  Outputs outputs(args);
  sim::RunOptions options;
  outputs.attach(options);
  std::optional<sim::ListChoices> recorded;
  if (token.choices) {
    recorded.emplace(*token.choices);
    options.choices = &*recorded;
  }
  sim::RunResult run;
  sim::Summary s = run_and_summarize(token.scenario, options, &run, progress_wanted(args));
  // An interrupted replay made fewer choices by design: that is no divergence.
  const std::string mismatch = s.interrupted ? std::string{} : sim::replay_mismatch(token, run);
  if (!mismatch.empty() && s.failure.empty()) s.failure = mismatch;
  // The same run again with every rule checked (check/rules.h): a schedule the explorer or a
  // property found is reported with the rule it breaks (in --json, as the key "violation").
  std::optional<check::Finding> finding;
  if (!s.interrupted) {
    std::optional<sim::ListChoices> again;
    check::CheckOptions checked;
    if (token.choices) {
      again.emplace(*token.choices);
      checked.choices = &*again;
    }
    checked.keep_bytes = false;
    finding = check::run_checked(token.scenario, checked).finding;
  }
  if (args.has("--json")) {
    nlohmann::json j = to_json(s);
    if (finding) j["violation"] = finding->line();
    std::cout << j.dump(2) << '\n';
  } else {
    print(s, false, view, token.scenario);
    if (finding) std::cout << "violation: " << finding->line() << '\n';
  }
  outputs.close();
  return finish_status(good(s) && mismatch.empty() && !finding);
}

}  // namespace

Command replay_command() {
  Command c;
  c.name = "replay";
  c.summary = "rerun a run from the replay token of its summary";
  c.example = "replay emitlab1.eJ...  (the \"replay\" line of a summary)";
  Flag token;
  token.name = "TOKEN";
  token.metavar = "TOKEN";
  token.help = "the replay token of a summary";
  token.allowed = "emitlab1. + base64url, at most " + std::to_string(sim::kMaxTokenChars >> 10) +
                  " KiB, from this build";
  token.required = true;
  c.flags.push_back(token);
  for (auto& f : output_flags()) c.flags.push_back(std::move(f));
  c.flags.push_back(quiet_flag());
  for (auto& f : view_flags()) c.flags.push_back(std::move(f));
  c.run = replay;
  return c;
}

}  // namespace emitlab::cli
