#include "props/tiers.h"

#include "props/runner.h"
#include "sim/deterministic_tls.h"

namespace emitlab::props {
namespace {

// One set of TLS contexts for the whole process, as the explorer keeps one per exploration:
// every world rewinds it to its scenario's seed and handshake (sim/world.cpp), so a case hands
// out the bytes a fresh one would. Building it was a fifth of a small case's instructions (an
// OpenSSL 3.0 SSL_CTX fetches every cipher anew from a fresh library context). The cases run
// on one thread, one world at a time, and every SSL a world makes is freed with the world.
sim::DeterministicTls& shared_tls() {
  static sim::DeterministicTls tls(0);
  return tls;
}

check::CheckOptions options_for(const std::string& emitter) {
  check::CheckOptions o;
  o.emitter = emitter;
  if (!emitter.empty()) o.factory = *find_emitter(emitter);
  o.tls = &shared_tls();
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
