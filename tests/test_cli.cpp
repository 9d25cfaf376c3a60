// The emitlab command as a user meets it: exit codes and one-line errors.
#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "core/byte_size.h"
#include "support/shell.h"

#include <sys/wait.h>

#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <utility>

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

// Each command line is bad input: exit 2 and one line that names `expected` (the bad value,
// or the rule), with no terminal escape echoed back.
void expect_usage_errors(std::initializer_list<std::pair<const char*, const char*>> cases) {
  for (const auto& [args, expected] : cases) {
    const auto r = run_cli(args);
    BOOST_TEST_CONTEXT(args << " -> " << r.out) {
      BOOST_TEST(r.status == 2);
      BOOST_TEST(lines(r.out) == 1U);
      BOOST_TEST(r.out.find(expected) != std::string::npos);
      BOOST_TEST(r.out.find('\x1b') == std::string::npos);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(bad_input_gets_one_line_and_status_2) {
  expect_usage_errors({
      {"run --strategy gathr", "gathr"},
      {"run --strategy gather+A9", "A9"},
      {"run --body 12X", "12X"},
      {"run --streams 0", "0"},
      {"run --completions maybe", "maybe"},
      {"run --no-such-flag", "--no-such-flag"},
      {"compare --strategies drain", "at least two"},
      {"compare --strategies drain,,gather", "empty"},
      {"run --streams 2000 --body 1M", "1 GiB"},
      {"frobnicate", "frobnicate"},
      {"run --mutant gate-off", "gate-off"},
      {"compare --mutant inflight-gate-of", "inflight-gate-of'"},
  });
  // A bad mutant's line lists every allowed name.
  const auto r = run_cli("run --mutant nope");
  for (const char* name : {"none", "inflight-gate-off", "emit-inside-callback"}) {
    BOOST_TEST(r.out.find(name) != std::string::npos, r.out);
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

// Numbers are decimal, whole and in range, or refused, and errors name the
// flag the user typed with its range (before: --seed -1 wrapped, --requests 010 was 8, --body
// 16M answered about a scenario limit).
BOOST_AUTO_TEST_CASE(flags_mean_what_they_say) {
  expect_usage_errors({
      {"run --seed -1", "bad --seed '-1': expected 0..18446744073709551615"},
      {"run --seed ''", "bad --seed ''"},
      {"run --seed 18446744073709551616", "bad --seed '18446744073709551616'"},
      {"run --requests 010", "bad --requests '010': expected 1..10000000"},
      {"run --requests 0x10", "bad --requests '0x10'"},
      {"run --requests ' 5'", "bad --requests ' 5'"},
      {"run --requests '+5'", "bad --requests '+5'"},
      {"run --requests '5 '", "bad --requests '5 '"},
      {"run --body 010", "bad --body '010'"},
      {"run --scenario ''", "bad --scenario ''"},
      {"run --trace ''", "bad --trace ''"},
      {"run --strategy drain@cap=16K", "drain takes no"},
      {"run --strategy gather@threshold=2K", "hybrid only"},
      {"run --strategy gather@cap=16K@cap=32K", "repeated"},
      {"compare --strategies drain,gather@threshold=2K", "hybrid only"},
      {"run --body 16M", "bad --body '16M': expected 0..10737418 here"},
      {"run --connections 10 --requests 5", "bad --requests '5': expected 10..10000000 here"},
      {"run --seed 1 --seed 2", "--seed"},
      {"run --cipher-ring 17", "bad --cipher-ring '17': expected 0..16"},
      {"run --pacing \"$(printf 'a\\033[2Jb')\"", "'a\\x1b[2Jb'"},
  });
  // The same numbers written plainly are taken as written.
  const auto ok =
      run_cli("run --seed 18446744073709551615 --requests 10 --body 16K --print-scenario");
  BOOST_TEST_REQUIRE(ok.status == 0, ok.out);
  const auto j = nlohmann::json::parse(ok.out);
  BOOST_TEST(j["seed"].get<std::uint64_t>() == 18446744073709551615ULL);
  BOOST_TEST(j["workload"]["requests"].get<int>() == 10);
  BOOST_TEST(j["workload"]["body"][0].get<int>() == 16384);
}

// An output that could not be written is an error naming it, exit 1.
BOOST_AUTO_TEST_CASE(outputs_that_cannot_be_written_are_errors) {
  const std::string dir = "/tmp/emitlab-test-cli-" + std::to_string(getpid());
  BOOST_REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  const std::pair<std::string, std::string> cases[] = {
      {"--trace /dev/full", "--trace '/dev/full'"},
      {"--pcap /dev/full --keylog " + dir + "/k.log", "--pcap '/dev/full'"},
      {"--pcap " + dir + "/p.pcap --keylog /dev/full", "--keylog '/dev/full'"},
  };
  for (const auto& [flags, named] : cases) {
    const auto r = emitlab::testing::shell(
        std::string(EMITLAB_CLI) + " run --streams 20 --body 20K " + flags + " 2>&1 >/dev/null");
    BOOST_TEST_CONTEXT(flags << " -> " << r.out) {
      BOOST_TEST(r.status == 1);
      BOOST_TEST(lines(r.out) == 1U);
      BOOST_TEST(r.out.find(named) != std::string::npos);
    }
  }
  const auto out =
      emitlab::testing::shell(std::string(EMITLAB_CLI) + " run --streams 3 2>&1 >/dev/full");
  BOOST_TEST(out.status == 1);
  BOOST_TEST(out.out.find("standard output") != std::string::npos, out.out);
  BOOST_TEST(std::system(("rm -rf " + dir).c_str()) == 0);
}

// Help lists the commands with an example each, and every flag of a command
// with its range and default.
BOOST_AUTO_TEST_CASE(help_lists_commands_and_every_flag) {
  const auto bare = run_cli("");
  const auto help = run_cli("--help");
  BOOST_TEST(bare.status == 0);
  BOOST_TEST(help.status == 0);
  BOOST_TEST(bare.out == help.out);
  for (const char* c : {"run", "compare", "replay", "strategies", "help"}) {
    BOOST_TEST(help.out.find(std::string("\n  ") + c + " ") != std::string::npos, c);
  }
  BOOST_TEST(help.out.find("  emitlab run --strategy") != std::string::npos);
  for (const char* c : {"run", "compare", "replay", "strategies"}) {
    const auto a = run_cli(std::string("help ") + c);
    const auto b = run_cli(std::string(c) + " --help");
    BOOST_TEST(a.status == 0);
    BOOST_TEST(a.out == b.out, c);
    BOOST_TEST(a.out.find("example: emitlab " + std::string(c)) != std::string::npos, c);
  }
  const auto run = run_cli("help run");
  for (const char* flag : {"--strategy S", "--connections C", "--body SIZE", "--seed S",
                           "--read-chunk SIZE", "--trace FILE", "--print-scenario"}) {
    BOOST_TEST(run.out.find(std::string("  ") + flag) != std::string::npos, flag);
  }
  BOOST_TEST(run.out.find("1..10000; default 1") != std::string::npos, run.out);
  BOOST_TEST(run_cli("help frobnicate").status == 2);
}

// The ranges help shows are the validator's: for every flag of `run` with a numeric range, the
// lowest value is accepted and one past the highest is refused with the same range named.
BOOST_AUTO_TEST_CASE(help_ranges_are_the_ones_the_validator_enforces) {
  const auto md = run_cli("help --markdown");
  BOOST_TEST_REQUIRE(md.status == 0);
  const std::size_t start = md.out.find("`emitlab run`");
  const std::size_t end = md.out.find("`emitlab compare`");
  BOOST_TEST_REQUIRE((start != std::string::npos && end != std::string::npos));
  std::istringstream rows(md.out.substr(start, end - start));
  int checked = 0;
  for (std::string row; std::getline(rows, row);) {
    // | `--flag X` | LO..HI[ bytes] | default | meaning |
    if (row.rfind("| `--", 0) != 0) continue;
    const std::size_t tick = row.find('`', 3);
    const std::string usage = row.substr(3, tick - 3);
    const std::string flag = usage.substr(0, usage.find(' '));
    const std::size_t cell = row.find("| ", tick) + 2;
    const std::string allowed = row.substr(cell, row.find(" |", cell) - cell);
    const std::size_t dots = allowed.find("..");
    if (dots == std::string::npos || usage == flag) continue;
    const std::string lo = allowed.substr(0, dots);
    std::string hi = allowed.substr(dots + 2);
    hi = hi.substr(0, hi.find(' '));
    const auto lo_v = emitlab::parse_byte_size(lo);
    const auto hi_v = emitlab::parse_byte_size(hi);
    if (!lo_v || !hi_v || *hi_v == UINT64_MAX) continue;
    BOOST_TEST_CONTEXT(row) {
      const auto low = run_cli("run " + flag + " " + lo + " --print-scenario");
      BOOST_TEST(low.status == 0, low.out);
      const auto over =
          run_cli("run " + flag + " " + std::to_string(*hi_v + 1) + " --print-scenario");
      BOOST_TEST(over.status == 2);
      BOOST_TEST(over.out.find("bad " + flag) != std::string::npos, over.out);
      BOOST_TEST(over.out.find(allowed.substr(0, allowed.find(' '))) != std::string::npos,
                 over.out);
      ++checked;
    }
  }
  BOOST_TEST(checked >= 8);  // streams, connections, concurrency, requests, body, rings, read-chunk
}

// README.md's flag tables are `emitlab help --markdown` (scripts/readme_flags.sh writes them).
BOOST_AUTO_TEST_CASE(readme_flag_tables_match_the_generated_help) {
  std::ifstream in(EMITLAB_SOURCE_DIR "/README.md");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const std::string begin = "<!-- flags: generated by scripts/readme_flags.sh -->\n";
  const std::string end = "<!-- flags: end -->";
  const std::size_t a = readme.find(begin);
  const std::size_t b = readme.find(end);
  BOOST_TEST_REQUIRE((a != std::string::npos && b != std::string::npos && a < b));
  const auto md = run_cli("help --markdown");
  BOOST_TEST(readme.substr(a + begin.size(), b - a - begin.size()) == md.out,
             "README.md's flag tables differ from `emitlab help --markdown`: run "
             "scripts/readme_flags.sh");
}

// For the commands main gained after the table (explore, serve, merge): every
// number flag they declare refuses one past its highest value and the non-decimal spellings,
// with one line naming the flag and the range help shows (parse_args checks before anything
// runs, so serve never starts listening here).
BOOST_AUTO_TEST_CASE(explore_and_serve_number_flags_are_bounded_as_help_says) {
  const auto md = run_cli("help --markdown");
  BOOST_TEST_REQUIRE(md.status == 0);
  int checked = 0;
  for (const char* command : {"explore", "serve"}) {
    const std::size_t start = md.out.find(std::string("`emitlab ") + command + "`");
    BOOST_TEST_REQUIRE(start != std::string::npos);
    const std::size_t end = md.out.find("\n`emitlab ", start + 1);
    std::istringstream rows(md.out.substr(start, end - start));
    for (std::string row; std::getline(rows, row);) {
      if (row.rfind("| `--", 0) != 0) continue;
      const std::size_t tick = row.find('`', 3);
      const std::string usage = row.substr(3, tick - 3);
      const std::string flag = usage.substr(0, usage.find(' '));
      const std::size_t cell = row.find("| ", tick) + 2;
      const std::string allowed = row.substr(cell, row.find(" |", cell) - cell);
      const std::size_t dots = allowed.find("..");
      // A number flag: its allowed cell starts with the range (a text flag may mention one).
      if (dots == std::string::npos || usage == flag || !std::isdigit(allowed.front())) continue;
      std::string hi = allowed.substr(dots + 2);
      hi = hi.substr(0, hi.find_first_of(" ,"));
      const auto hi_v = emitlab::parse_byte_size(hi);
      if (!hi_v) continue;
      const std::string range = allowed.substr(0, allowed.find_first_of(" ,"));
      for (const std::string& value : {std::to_string(*hi_v + 1), std::string("010"),
                                       std::string("0x10"), std::string("-1"), std::string("")}) {
        const auto r = run_cli(std::string(command) + " " + flag + " '" + value + "'");
        BOOST_TEST_CONTEXT(command << " " << flag << " '" << value << "' -> " << r.out) {
          BOOST_TEST(r.status == 2);
          BOOST_TEST(lines(r.out) == 1U);
          BOOST_TEST(r.out.find("bad " + flag + " '" + value + "'") != std::string::npos);
          BOOST_TEST(r.out.find(range) != std::string::npos);
        }
      }
      ++checked;
    }
  }
  // explore: --bound, --max-schedules, --max-seconds, --max-depth; serve: --body, --cipher-ring,
  // --plaintext-ring, --write-timeout, --max-connections.
  BOOST_TEST(checked == 9);
  // Text flags of these commands refuse the empty value too, and merge an empty file name.
  for (const char* args : {"explore --scope ''", "explore --shard ''", "serve --listen ''",
                           "serve --stats-json ''", "merge ''"}) {
    const auto r = run_cli(args);
    BOOST_TEST_CONTEXT(args << " -> " << r.out) {
      BOOST_TEST(r.status == 2);
      BOOST_TEST(lines(r.out) == 1U);
      BOOST_TEST(r.out.find("''") != std::string::npos);
    }
  }
}

// For merge: a merged result that cannot be written is exit 1 naming standard
// output (bad shards stay exit 2).
BOOST_AUTO_TEST_CASE(merge_output_that_cannot_be_written_is_exit_1) {
  const std::string shard = "/tmp/emitlab-test-cli-merge-" + std::to_string(getpid()) + ".jsonl";
  const auto line = emitlab::testing::shell(
      std::string(EMITLAB_CLI) +
      " explore --scope shutdown-inflight --bound 0 --json --quiet 2>/dev/null > " + shard);
  BOOST_TEST_REQUIRE(line.status == 0);
  const auto ok = emitlab::testing::shell(std::string(EMITLAB_CLI) + " merge " + shard + " 2>&1");
  BOOST_TEST(ok.status == 0, ok.out);
  const auto full = emitlab::testing::shell(std::string(EMITLAB_CLI) + " merge --json " + shard +
                                            " 2>&1 >/dev/full");
  BOOST_TEST(full.status == 1, full.out);
  BOOST_TEST(lines(full.out) == 1U, full.out);
  BOOST_TEST(full.out.find("standard output") != std::string::npos, full.out);
  std::remove(shard.c_str());
}
