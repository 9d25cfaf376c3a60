// Hostile input, re-checked: the scope reader is as strict and bounded as the scenario reader
// (a number that overflows aborted `emitlab explore --scope FILE` with exit 134; duplicate keys
// were taken), and the CLI reads --scenario and --scope files only up to their limit
// (--scenario /dev/zero grew without end).
#define BOOST_TEST_MODULE hostile_files
#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>

#include "sim/replay.h"
#include "sim/scope.h"
#include "tests/support/shell.h"

namespace sim = emitlab::sim;
using emitlab::testing::shell;

namespace {
std::string scope_error(const std::string& json) {
  const auto p = sim::parse_scope(json, "f.json");
  BOOST_TEST(!p.scope);
  BOOST_TEST(p.error.find('\n') == std::string::npos);
  return p.error;
}
}  // namespace

BOOST_AUTO_TEST_CASE(scope_files_are_read_strictly_and_bounded) {
  const std::pair<std::string, const char*> cases[] = {
      {R"({"bound": 1e400, "scenario": {}})", "number overflow"},
      {R"({"scenario": {"seed": 1e400}})", "number overflow"},
      {R"({"bound": 1, "bound": 2, "scenario": {}})", "duplicate key 'bound'"},
      {R"({"scenario": {}, "scenario": {"seed": 2}})", "duplicate key 'scenario'"},
      {"{\"scenario\":" + std::string(70000, '[') + std::string(70000, ']') + "}",
       "nested deeper than"},
      {std::string(sim::kMaxScopeBytes + 1, ' '), "larger than"},
      {R"({"bound": "x)" + std::string(100000, 'y') + R"(", "scenario": {}})", "expected 0..8"},
      {R"({"hold": ["a\u001b[2J"], "scenario": {}})", "decision label"},
  };
  for (const auto& [json, why] : cases) {
    const std::string e = scope_error(json);
    BOOST_TEST_CONTEXT(json.substr(0, 60) << " -> " << e) {
      BOOST_TEST(e.find(why) != std::string::npos);
      BOOST_TEST(e.size() < 400U);
      BOOST_TEST(e.find('\x1b') == std::string::npos);
    }
  }
  // A scope a full depth deep is still read.
  const auto ok =
      sim::parse_scope(R"({"bound": 2, "scenario": {"workload": {"body": [1, 2]}}})", "f.json");
  BOOST_TEST(ok.scope.has_value(), ok.error);
}

BOOST_AUTO_TEST_CASE(tokens_with_control_characters_or_without_end_are_one_short_line) {
  for (const std::string& token :
       {std::string("emitlab1.abc\x1b[2Jdef\nxyz"), "emitlab1." + std::string(100000, 'A'),
        std::string(100000, '\x1b'), std::string("emitlab1.")}) {
    const auto p = sim::decode(token);
    BOOST_TEST(!p.token);
    BOOST_TEST(p.error.find("bad replay token") == 0U, p.error);
    BOOST_TEST(p.error.size() < 200U, p.error);
    BOOST_TEST(p.error.find('\x1b') == std::string::npos, p.error);
    BOOST_TEST(p.error.find('\n') == std::string::npos, p.error);
  }
}

BOOST_AUTO_TEST_CASE(the_cli_reads_files_only_up_to_their_limit) {
  // /dev/zero never ends: a reader without a limit would not return (ctest's timeout fails it).
  const auto scenario = shell(std::string(EMITLAB_CLI) + " run --scenario /dev/zero 2>&1");
  BOOST_TEST(scenario.status == 2, scenario.out);
  BOOST_TEST(scenario.out.find("larger than") != std::string::npos, scenario.out);
  BOOST_TEST(scenario.out.find('\n') == scenario.out.size() - 1, scenario.out);  // one line
  const auto scope = shell(std::string(EMITLAB_CLI) + " explore --scope /dev/zero 2>&1");
  BOOST_TEST(scope.status == 2, scope.out);
  BOOST_TEST(scope.out.find("larger than") != std::string::npos, scope.out);
}
