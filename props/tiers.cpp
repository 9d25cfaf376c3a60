#include "props/tiers.h"

#include "props/runner.h"

namespace emitlab::props {
namespace {

check::CheckOptions options_for(const std::string& emitter) {
  check::CheckOptions o;
  o.emitter = emitter;
  if (!emitter.empty()) o.factory = *find_emitter(emitter);
  return o;
}

}  // namespace

CheckedRun run_checked(const sim::Scenario& scenario, const std::string& emitter) {
  return check::run_checked(scenario, options_for(emitter));
}

Verdict check_every_rule(const Case& c) {
  std::vector<CheckedRun> runs;
  runs.push_back(run_checked(c.scenario, c.emitter));
  return check::verdict_of(std::move(runs));
}

Verdict check_app_stream(const Case& c) {
  return check::check_app_stream(c.scenario, options_for(c.emitter));
}

Verdict check_ciphertext(const Case& c) {
  return check::check_ciphertext(c.scenario, options_for(c.emitter));
}

}  // namespace emitlab::props
