// The props runner: RapidCheck properties as Boost.Test cases, a campaign budget, progress
// lines, the failure block and replay.
//
// EMITLAB_PROP(NAME, BASE_CASES, GEN, CHECK) is RC_BOOST_PROP with its own runner: RapidCheck's
// Boost runner prints its message through BOOST_FAIL after shrinking and leaves the reproduce
// string to an at-exit listener, so it cannot print what a failure needs first. This one runs
// the property with RapidCheck's checkProperty (same test id, so RC_PARAMS="reproduce=..."
// keys are those RC_BOOST_PROP would use, and RC_PARAMS works as RapidCheck documents), then on
// a failure prints, before anything else (the README, "Replaying a failure", shows one):
//   property: NAME
//   seed: S
//   reproduce: RC_PARAMS="reproduce=..." BINARY --run_test=NAME
//   scenario: the shrunk scenario as canonical JSON
//   replay: EMITLAB_CLI replay emitlab1.TOKEN   (for a test emitter: BINARY replay ...)
//   replay property: BINARY replay emitlabprop1.TOKEN
//   violation: RULE: DETAIL [in RUN]
//   hashes: RUN app_sha256=... wire_sha256=... choices=N:DIGEST   (one line per run)
//   allocations per pass (mean/max): emitter, nghttp2, openssl
// `BINARY replay emitlabprop1.TOKEN` reruns exactly that case in a fresh process (the property's
// check on the token's scenario; the failing run's choices must match the token's) and prints
// the same violation and hashes lines; exit 1 when the property still fails, 0 when it holds,
// 2 for a bad token.
#pragma once

#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "core/emitter.h"
#include "props/suite.h"

namespace emitlab::props {

// A property defined by a test binary alone (the suite's are in props/suite.h).
struct PropertyRegistration {
  explicit PropertyRegistration(const PropertyDef& def);
};
// The suite's property of that name, else one this binary registered.
const PropertyDef* find_property(std::string_view name);

// Emitters defined by a test binary (strategies broken on purpose); never in core or the CLI.
// Names start with "test:" and contain no '.'.
struct EmitterRegistration {
  EmitterRegistration(std::string name, EmitterFactory factory);
};
const EmitterFactory* find_emitter(std::string_view name);

// Runs a property (the suite's or a registered one) as the current Boost test case.
void run_property(const char* name);

// The command that reruns a failing case in a fresh process: `BINARY replay emitlabprop1.TOKEN`
// (the property's check on the failing run's scenario and choices), or, when the check threw
// before a run finished, `BINARY check NAME FILE` with the scenario saved as FILE.
std::string replay_command(const PropertyDef& def, const Case& c, const Verdict& v);

// main() of every props binary: `BINARY replay TOKEN`, `BINARY check PROPERTY FILE [EMITTER]`,
// `BINARY list-mutants` (the bug zoo's names), or the Boost.Test runner.
int props_main(int argc, char** argv);

}  // namespace emitlab::props

// A Boost test case running the suite's property NAME (props/suite.cpp).
#define EMITLAB_SUITE_PROP(NAME)           \
  BOOST_AUTO_TEST_CASE(NAME) {             \
    ::emitlab::props::run_property(#NAME); \
  }

// A property of this test binary alone, and its Boost test case.
#define EMITLAB_PROP(NAME, BASE_CASES, GEN, CHECK, ...)                    \
  static const ::emitlab::props::PropertyRegistration NAME##_registration{ \
      ::emitlab::props::PropertyDef{#NAME, BASE_CASES, GEN, CHECK}};       \
  BOOST_AUTO_TEST_CASE(NAME __VA_OPT__(, ) __VA_ARGS__) {                  \
    ::emitlab::props::run_property(#NAME);                                 \
  }
