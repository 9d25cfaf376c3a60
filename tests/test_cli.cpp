// The emitlab command as a user meets it: exit codes and one-line errors.
#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "support/shell.h"

#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <string>

namespace {

using emitlab::testing::Outcome;

// Runs emitlab with the given arguments; stderr is folded into the output.
Outcome run_cli(const std::string& args) {
  return emitlab::testing::shell(std::string(EMITLAB_CLI) + " " + args + " 2>&1");
}

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n' ? 1 : 0;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(bad_input_gets_one_line_and_status_2) {
  const char* cases[][2] = {
      {"run --strategy gathr", "gathr"},
      {"run --strategy gather+A9", "A9"},
      {"run --body 12X", "12X"},
      {"run --streams 0", "0"},
      {"run --cipher-ring 17", "17"},
      {"run --completions maybe", "maybe"},
      {"run --no-such-flag", "--no-such-flag"},
      {"compare --strategies drain", "at least two"},
      {"compare --strategies drain,,gather", "empty"},
      {"run --streams 2000 --body 1M", "1 GiB"},
      {"frobnicate", "frobnicate"},
  };
  for (const auto& c : cases) {
    const auto r = run_cli(c[0]);
    BOOST_TEST_CONTEXT(c[0] << " -> " << r.out) {
      BOOST_TEST(r.status == 2);
      BOOST_TEST(lines(r.out) == 1U);
      BOOST_TEST(r.out.find(c[1]) != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(compare_reports_identical_application_streams_as_json) {
  const auto r = run_cli("compare --strategies drain,gather --streams 100 --body 3 --json");
  BOOST_TEST(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  BOOST_REQUIRE(j["strategies"].size() == 2U);
  for (const auto& s : j["strategies"]) {
    BOOST_TEST(s["responses_verified"].get<int>() == 100);
    BOOST_TEST(s["responses_failed"].get<int>() == 0);
    for (const char* key : {"passes", "ssl_writes", "tls_records", "write_submissions",
                            "emitter_allocs_per_pass_mean", "emitter_allocs_per_pass_max",
                            "ref_ops", "wire_bytes", "app_sha256", "wire_sha256"}) {
      BOOST_TEST(s.contains(key), key);
    }
  }
  const auto& pair = j["pairs"][0];
  BOOST_TEST(pair["a"] == "drain");
  BOOST_TEST(pair["b"] == "gather");
  BOOST_TEST(pair["app_equal"].get<bool>());
  BOOST_TEST(pair["app_promised"].get<bool>());
  BOOST_TEST(!pair["wire_promised"].get<bool>());
  BOOST_TEST(j["strategies"][0]["app_sha256"] == j["strategies"][1]["app_sha256"]);
}

BOOST_AUTO_TEST_CASE(run_prints_every_figure_and_exits_zero) {
  const auto r = run_cli("run --strategy gather --streams 5 --body 16K --wide");
  BOOST_TEST(r.status == 0);
  for (const char* label : {"delivery",
                            "passes and writes",
                            "allocations and references",
                            "copies",
                            "wire",
                            "time",
                            "verified",
                            "failed",
                            "passes",
                            "SSL_write",
                            "TLS",
                            "records",
                            "under-",
                            "submits",
                            "allocs",
                            "/pass",
                            "ref",
                            "wire",
                            "app sha256",
                            "wire sha256"}) {
    BOOST_TEST(r.out.find(label) != std::string::npos, label);
  }
  // --fields picks columns by their JSON names or groups; a bad name is bad input.
  const auto some = run_cli("run --strategy gather --streams 5 --fields tls_records,wire");
  BOOST_TEST(some.status == 0);
  BOOST_TEST(some.out.find("records") != std::string::npos);
  BOOST_TEST(some.out.find("SSL_write") == std::string::npos);
  const auto bad = run_cli("run --fields no_such_field");
  BOOST_TEST(bad.status == 2);
  BOOST_TEST(lines(bad.out) == 1U);
  BOOST_TEST(bad.out.find("no_such_field") != std::string::npos);
  BOOST_TEST(run_cli("compare --wide --fields wire").status == 2);
}

BOOST_AUTO_TEST_CASE(strategies_lists_every_part_and_the_promise_groups) {
  const auto r = run_cli("strategies --json");
  BOOST_TEST(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  std::map<std::string, std::string> kinds;
  for (const auto& e : j["entries"]) kinds[e["name"]] = e["kind"];
  for (const char* base : {"drain", "gather", "hybrid"}) BOOST_TEST(kinds[base] == "base");
  for (const char* option : {"A1", "A2", "A3"}) BOOST_TEST(kinds[option] == "option");
  for (const char* param : {"cap", "threshold"}) BOOST_TEST(kinds[param] == "parameter");
  BOOST_TEST(j["promises"].size() == 3U);
  // Each group holds a base and its seven option combinations, and every name parses.
  BOOST_REQUIRE(j["same_ciphertext"].size() == 2U);
  for (const auto& group : j["same_ciphertext"]) {
    BOOST_TEST(group.size() == 8U);
    for (const auto& name : group) {
      BOOST_TEST(
          run_cli("run --strategy " + name.get<std::string>() + " --print-scenario").status == 0);
    }
  }
  BOOST_TEST(run_cli("strategies").status == 0);
}
