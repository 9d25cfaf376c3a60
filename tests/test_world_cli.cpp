// The world through the emitlab command: determinism across processes (and across builds when a
// fresh sibling build exists), scenarios printed and read back, replay tokens in a new process,
// traces, captures that tshark decodes, and one-line errors for bad scenarios and tokens.
#define BOOST_TEST_MODULE world_cli
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <zlib.h>

#include "sim/replay.h"
#include "support/shell.h"

namespace fs = std::filesystem;
namespace sim = emitlab::sim;

namespace {

using emitlab::testing::Outcome;
using emitlab::testing::shell;

// stderr folded into the output
Outcome cli(const std::string& args, const std::string& binary = EMITLAB_CLI) {
  return shell(binary + " " + args + " 2>&1");
}

// A run's JSON without "host", the one part that measures the machine.
nlohmann::json figures(const Outcome& o) {
  BOOST_TEST_REQUIRE(o.status == 0, o.out);
  auto j = nlohmann::json::parse(o.out);
  j.erase("host");
  return j;
}

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n' ? 1 : 0;
  return n;
}

fs::path temp(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("emitlab-world-cli-" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir / name;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

const std::string kShape =
    "--connections 4 --concurrency 8 --requests 60 --body 20000 --strategy gather";
const std::string kBusy = kShape + " --seed 7";

}  // namespace

BOOST_AUTO_TEST_CASE(same_run_in_two_processes_gives_the_same_summary) {
  const auto a = figures(cli(std::string("run ") + kBusy + " --completions mixed --json"));
  const auto b = figures(cli(std::string("run ") + kBusy + " --completions mixed --json"));
  BOOST_TEST(a.dump() == b.dump());
  BOOST_TEST(a["responses_verified"].get<int>() == 60);
  const auto c = figures(cli("run " + kShape + " --seed 8 --json"));
  BOOST_TEST(c["wire_sha256"] != a["wire_sha256"]);
}

BOOST_AUTO_TEST_CASE(printed_scenario_reproduces_the_run) {
  const auto printed = cli(std::string("run ") + kBusy + " --read-chunk 3000 --print-scenario");
  BOOST_REQUIRE(printed.status == 0);
  const fs::path file = temp("printed.json");
  write(file, printed.out);
  const auto direct = figures(cli(std::string("run ") + kBusy + " --read-chunk 3000 --json"));
  const auto from_file = figures(cli("run --scenario " + file.string() + " --json"));
  BOOST_TEST(direct.dump() == from_file.dump());
  // Printing the scenario read from the file gives the file back.
  BOOST_TEST(cli("run --scenario " + file.string() + " --print-scenario").out == printed.out);
  // A flag given with --scenario overrides the file.
  const auto seeded = figures(cli("run --scenario " + file.string() + " --seed 99 --json"));
  BOOST_TEST(seeded["wire_sha256"] != direct["wire_sha256"]);
}

BOOST_AUTO_TEST_CASE(replay_token_reproduces_the_run_in_a_new_process) {
  for (const char* extra : {"", " --pacing lockstep --completions sync"}) {
    const auto original = figures(cli(std::string("run ") + kBusy + extra + " --json"));
    const std::string token = original["replay"];
    BOOST_TEST(token.rfind("emitlab1.", 0) == 0U);
    const auto replayed = figures(cli("replay " + token + " --json"));
    BOOST_TEST(replayed.dump() == original.dump());
    const auto decoded = sim::decode(token);
    BOOST_REQUIRE(decoded.token.has_value());
    BOOST_TEST(decoded.token->choices.has_value());  // small runs carry their choice list
  }
}

BOOST_AUTO_TEST_CASE(a_mutant_run_fails_and_its_token_reproduces_it_in_a_new_process) {
  const std::string args =
      "run --mutant emit-inside-callback --strategy gather --streams 2 --body 200000 --json";
  const auto run = cli(args);
  BOOST_TEST(run.status == 1, run.out);
  auto original = nlohmann::json::parse(run.out);
  original.erase("host");
  BOOST_TEST(original["mutant"] == "emit-inside-callback");
  BOOST_TEST(original["failure"].get<std::string>().find("no_send_in_callback") !=
             std::string::npos);
  const auto decoded = sim::decode(original["replay"].get<std::string>());
  BOOST_REQUIRE(decoded.token.has_value());
  BOOST_TEST((decoded.token->scenario.mutant == emitlab::Mutant::EmitInsideCallback));
  const auto again = cli("replay " + original["replay"].get<std::string>() + " --json");
  BOOST_TEST(again.status == 1);
  auto replayed = nlohmann::json::parse(again.out);
  replayed.erase("host");
  // The replay also checks every rule and names the one the mutant breaks.
  BOOST_TEST(replayed["violation"].get<std::string>().find("no_send_in_callback") !=
             std::string::npos);
  replayed.erase("violation");
  BOOST_TEST(replayed.dump() == original.dump());
  // The same run without the mutant is clean; compare arms every strategy it runs.
  BOOST_TEST(cli("run --strategy gather --streams 2 --body 200000").status == 0);
  const auto cmp =
      cli("compare --mutant inflight-gate-off --strategies drain,gather --streams 4 --body 100K "
          "--json");
  BOOST_TEST(cmp.status == 1);
  const auto j = nlohmann::json::parse(cmp.out);
  for (const auto& s : j["strategies"]) BOOST_TEST(s["mutant"] == "inflight-gate-off");
}

BOOST_AUTO_TEST_CASE(large_runs_carry_the_seeds_choices_by_count_and_digest) {
  const auto original = figures(
      cli("run --connections 20 --concurrency 10 --requests 2000 --body 3000 --read-chunk 100 "
          "--completions mixed --strategy gather --json"));
  const std::string token = original["replay"];
  const auto decoded = sim::decode(token);
  BOOST_REQUIRE(decoded.token.has_value());
  BOOST_TEST(!decoded.token->choices.has_value());
  BOOST_TEST(decoded.token->choice_count == original["choices"].get<std::uint64_t>());
  BOOST_TEST(figures(cli("replay " + token + " --json")).dump() == original.dump());
}

BOOST_AUTO_TEST_CASE(a_token_from_another_build_says_so) {
  const auto original = figures(cli("run --streams 3 --json"));
  auto decoded = sim::decode(original["replay"].get<std::string>());
  BOOST_REQUIRE(decoded.token.has_value());
  decoded.token->build.commit = "0123456789ab";
  const auto r = cli("replay " + sim::encode(*decoded.token));
  BOOST_TEST(r.status == 2);
  BOOST_TEST(lines(r.out) == 1U);
  BOOST_TEST(r.out.find("another build") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("0123456789ab") != std::string::npos, r.out);
}

// A token names the commit the CLI was built from, read when it was built: a build directory
// configured before the last commit must not name the commit before it.
BOOST_AUTO_TEST_CASE(a_token_names_the_commit_the_cli_was_built_from) {
  const auto decoded =
      sim::decode(figures(cli("run --streams 1 --json"))["replay"].get<std::string>());
  BOOST_REQUIRE(decoded.token.has_value());
  const std::string commit = decoded.token->build.commit;
  const auto head = emitlab::testing::shell("git -C '" EMITLAB_SOURCE_DIR
                                            "' rev-parse --short=12 HEAD 2>/dev/null");
  if (head.status != 0) {
    BOOST_TEST(commit == "unknown");  // not a git checkout
    return;
  }
  const std::string want = head.out.substr(0, head.out.find('\n'));
  BOOST_TEST((commit == want || commit == want + "-dirty"), commit << " vs HEAD " << want);
}

BOOST_AUTO_TEST_CASE(a_replay_that_decides_otherwise_is_reported) {
  const auto original = figures(cli("run --streams 20 --body 30000 --json"));
  auto decoded = sim::decode(original["replay"].get<std::string>());
  BOOST_REQUIRE(decoded.token.has_value());
  BOOST_REQUIRE(decoded.token->choices.has_value());
  auto& list = *decoded.token->choices;
  BOOST_REQUIRE(list.size() > 2);
  list[list.size() / 2].index = (list[list.size() / 2].index + 1) % list[list.size() / 2].n;
  const auto changed = cli("replay " + sim::encode(*decoded.token) + " --json");
  BOOST_TEST(changed.status == 1);
  BOOST_TEST(changed.out.find("replay diverged") != std::string::npos, changed.out);
}

BOOST_AUTO_TEST_CASE(bad_scenarios_and_tokens_get_one_line_and_status_2) {
  const fs::path unknown = temp("unknown.json");
  write(unknown, R"({"link": {"latency": 5}})");
  const fs::path range = temp("range.json");
  write(range, R"({"peer": {"window": "wide", "ping_permille": 2000}})");
  const fs::path broken = temp("broken.json");
  write(broken, "{\"seed\": ");
  const char* cases[][2] = {
      {"--scenario /nonexistent/x.json", "/nonexistent/x.json"},
      {"--pacing sideways", "sideways"},
      {"--completions maybe", "maybe"},
      {"--read-chunk 0", "--read-chunk '0'"},
      {"--plaintext-ring 1K", "--plaintext-ring '1K'"},
      {"--connections 0", "0"},
      {"--concurrency 101", "101"},
      {"--streams 5 --connections 2", "shorthand"},
      {"--connections 10 --requests 5", "requests"},
      {"--pcap /tmp/x.pcap", "--keylog"},
  };
  for (const auto& c : cases) {
    const auto r = cli(std::string("run ") + c[0]);
    BOOST_TEST_CONTEXT(c[0] << " -> " << r.out) {
      BOOST_TEST(r.status == 2);
      BOOST_TEST(lines(r.out) == 1U);
      BOOST_TEST(r.out.find(c[1]) != std::string::npos);
    }
  }
  const std::pair<fs::path, const char*> files[] = {
      {unknown, "link.latency"}, {range, "2000"}, {broken, "not JSON"}};
  for (const auto& [file, name] : files) {
    for (const char* cmd : {"run", "compare"}) {
      const auto r = cli(std::string(cmd) + " --scenario " + file.string());
      BOOST_TEST_CONTEXT(cmd << " " << file << " -> " << r.out) {
        BOOST_TEST(r.status == 2);
        BOOST_TEST(lines(r.out) == 1U);
        BOOST_TEST(r.out.find(name) != std::string::npos);
      }
    }
  }
  for (const char* token : {"nonsense", "emitlab1.", "emitlab1.AAAA", "emitlab1.a*b"}) {
    const auto r = cli(std::string("replay '") + token + "'");
    BOOST_TEST_CONTEXT(token << " -> " << r.out) {
      BOOST_TEST(r.status == 2);
      BOOST_TEST(lines(r.out) == 1U);
      BOOST_TEST(r.out.find("bad replay token") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(compare_defaults_to_lockstep_and_says_what_was_promised) {
  const auto lock =
      cli("compare --strategies drain,gather --connections 3 --requests 30 "
          "--body 20000 --completions mixed --json");
  BOOST_TEST_REQUIRE(lock.status == 0, lock.out);
  const auto j = nlohmann::json::parse(lock.out);
  BOOST_TEST(j["input_independent"].get<bool>());
  BOOST_TEST(j["pairs"][0]["app_promised"].get<bool>());
  BOOST_TEST(j["pairs"][0]["app_equal"].get<bool>());
  BOOST_TEST(j["strategies"][0]["pacing"] == "lockstep");
  const auto loop = cli("compare --strategies drain,gather --pacing closed-loop --json");
  BOOST_TEST_REQUIRE(loop.status == 0, loop.out);
  const auto k = nlohmann::json::parse(loop.out);
  BOOST_TEST(!k["input_independent"].get<bool>());
  BOOST_TEST(!k["pairs"][0]["app_promised"].get<bool>());
}

BOOST_AUTO_TEST_CASE(run_prints_the_new_figures) {
  const auto r = cli(std::string("run ") + kBusy + " --wide");
  BOOST_TEST(r.status == 0);
  for (const char* label : {"pacing", "timing-dependent", "/resp", "/submit", "parks", "allocs",
                            "/pass p99", "allocs/resp", "openssl", "ref ops", "copied/resp",
                            "stage", "over-", "first byte", "last byte", "resp/CPU s", "sha256"}) {
    BOOST_TEST(r.out.find(label) != std::string::npos, label);
  }
  // Replay tokens leave the table: a run that passed prints its token only when asked.
  BOOST_TEST(r.out.find("emitlab replay") == std::string::npos);
  const auto shown = cli(std::string("run ") + kBusy + " --show-replay");
  BOOST_TEST(shown.out.find("emitlab replay emitlab1.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(trace_lines_cover_passes_writes_reads_and_frames) {
  const fs::path trace = temp("trace.jsonl");
  const auto r = cli(std::string("run ") + kBusy + " --json --trace " + trace.string());
  const auto summary = figures(r);
  std::ifstream in(trace);
  std::map<std::string, std::uint64_t> events;
  std::uint64_t last_t = 0;
  std::uint64_t data_frames = 0;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    ++events[j["ev"].get<std::string>()];
    BOOST_TEST(j["t"].get<std::uint64_t>() >= last_t);  // virtual time never goes back
    last_t = j["t"];
    if (j["ev"] == "frame" && j["dir"] == "recv" && j["type"] == "DATA") ++data_frames;
    if (j["ev"] == "pass_end") BOOST_TEST(j["record"].contains("ssl_writes"));
  }
  BOOST_TEST(events["pass_begin"] == summary["passes"].get<std::uint64_t>());
  BOOST_TEST(events["pass_end"] == summary["passes"].get<std::uint64_t>());
  BOOST_TEST(events["write_submit"] == summary["write_submissions"].get<std::uint64_t>());
  BOOST_TEST(events["write_complete"] == events["write_submit"]);
  BOOST_TEST(events["peer_read"] > 0U);
  BOOST_TEST(events["connection_start"] == 4U);
  BOOST_TEST(data_frames >= 60U);
}

BOOST_AUTO_TEST_CASE(tshark_decodes_every_http2_frame_of_the_capture) {
  if (shell("command -v tshark >/dev/null 2>&1").status != 0) {
    BOOST_TEST_MESSAGE("tshark is not installed (scripts/setup.sh installs it): not checked");
    return;
  }
  const fs::path pcap = temp("run.pcap");
  const fs::path keys = temp("keys.log");
  const fs::path trace = temp("capture-trace.jsonl");
  const auto r =
      cli("run --connections 3 --concurrency 4 --requests 12 --body 40000 "
          "--strategy gather --pcap " +
          pcap.string() + " --keylog " + keys.string() + " --trace " + trace.string());
  BOOST_TEST_REQUIRE(r.status == 0, r.out);
  // Frames by type, as the peer saw them (both directions) and as tshark decodes them.
  std::map<std::string, int> traced;
  std::ifstream in(trace);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["ev"] == "frame") ++traced[j["type"].get<std::string>()];
  }
  const auto decoded = shell("tshark -r " + pcap.string() + " -o tls.keylog_file:" + keys.string() +
                             " -Y http2 -T fields -e http2.type 2>/dev/null");
  BOOST_TEST_REQUIRE(decoded.status == 0);
  static const char* kTypes[] = {"DATA",          "HEADERS",      "PRIORITY", "RST_STREAM",
                                 "SETTINGS",      "PUSH_PROMISE", "PING",     "GOAWAY",
                                 "WINDOW_UPDATE", "CONTINUATION"};
  std::map<std::string, int> seen;
  std::istringstream lines_in(decoded.out);
  for (std::string line; std::getline(lines_in, line);) {
    std::istringstream fields(line);
    for (std::string t; std::getline(fields, t, ',');) {
      if (!t.empty()) ++seen[kTypes[std::stoi(t)]];
    }
  }
  BOOST_TEST(traced["DATA"] >= 36);
  BOOST_TEST((seen == traced), "tshark decoded a different set of frames");
  for (const auto& [type, n] : traced) BOOST_TEST(seen[type] == n, type);
}

// Debug, release and sanitizer builds must agree byte for byte. A sibling build of the presets
// is compared when it is at least as new as every source file (scripts/test.sh builds release
// before asan, so the asan run compares against release); a stale one is not evidence.
// EMITLAB_OTHER_CLI names one more binary to compare against, whatever its age.
BOOST_AUTO_TEST_CASE(sibling_builds_give_the_same_summaries) {
  const fs::path source = EMITLAB_SOURCE_DIR;
  fs::file_time_type newest{};
  for (const char* dir : {"core", "sim", "cli"}) {
    for (const auto& e : fs::recursive_directory_iterator(source / dir)) {
      if (e.is_regular_file()) newest = std::max(newest, e.last_write_time());
    }
  }
  std::vector<fs::path> others;
  for (const char* preset : {"release", "debug", "asan"}) {
    const fs::path other = source / "build" / preset / "cli" / "emitlab";
    if (fs::exists(other) && !fs::equivalent(other, EMITLAB_CLI) &&
        fs::last_write_time(other) >= newest) {
      others.push_back(other);
    }
  }
  if (const char* extra = std::getenv("EMITLAB_OTHER_CLI"); extra != nullptr && *extra != 0) {
    others.emplace_back(extra);
  }
  int compared = 0;
  for (const fs::path& other : others) {
    const std::string args = std::string("run ") + kBusy + " --completions mixed --json";
    BOOST_TEST_CONTEXT("against " << other) {
      BOOST_TEST(figures(cli(args, other.string())).dump() == figures(cli(args)).dump());
    }
    ++compared;
  }
  BOOST_TEST_MESSAGE("fresh sibling builds compared: " << compared);
}

namespace {

// A token as sim/replay.h documents its format, with any scenario text and build strings: the
// way a hostile or corrupted token reaches decode().
std::string handmade_token(const sim::BuildIdentity& build, const std::string& scenario_json) {
  std::string raw = "EMR1";
  auto varint = [](std::string& out, std::uint64_t v) {
    for (; v >= 0x80; v >>= 7) out += static_cast<char>(v | 0x80);
    out += static_cast<char>(v);
  };
  auto str = [&](const std::string& s) {
    varint(raw, s.size());
    raw += s;
  };
  str(build.commit);
  str(build.openssl);
  str(build.nghttp2);
  str(scenario_json);
  raw += '\0';                  // form 0: the seed's choices
  varint(raw, 0);               // count
  raw += std::string(8, '\0');  // digest
  uLongf size = compressBound(raw.size());
  std::string packed(size, '\0');
  BOOST_REQUIRE(compress2(reinterpret_cast<Bytef*>(packed.data()), &size,
                          reinterpret_cast<const Bytef*>(raw.data()), raw.size(), 9) == Z_OK);
  packed.resize(size);
  std::string framed;
  varint(framed, raw.size());
  framed += packed;
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "emitlab1.";
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : framed) {
    acc = (acc << 8) | static_cast<std::uint8_t>(c);
    for (bits += 8; bits >= 6;) out += kAlphabet[(acc >> (bits -= 6)) & 63];
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

}  // namespace

// Hostile scenario files and tokens are one line and exit 2, never an abort,
// a stack overflow, an unbounded read or a raw control character.
BOOST_AUTO_TEST_CASE(hostile_files_and_tokens_get_one_line_and_status_2) {
  const fs::path overflow = temp("overflow.json");
  write(overflow, R"({"seed": 1e400})");
  const fs::path deep = temp("deep.json");
  write(deep,
        "{\"workload\":{\"body\":" + std::string(70000, '[') + std::string(70000, ']') + "}}");
  const fs::path dup = temp("dup.json");
  write(dup, R"({"seed": 1, "seed": 2})");
  const std::pair<std::string, const char*> files[] = {
      {overflow.string(), "number overflow"},
      {deep.string(), "nested deeper"},
      {dup.string(), "duplicate key 'seed'"},
      {"/dev/zero", "larger than 1048576 bytes"},
  };
  for (const auto& [file, why] : files) {
    const auto r = cli("run --scenario " + file);
    BOOST_TEST_CONTEXT(file << " -> " << r.out.substr(0, 300)) {
      BOOST_TEST(r.status == 2);
      BOOST_TEST(lines(r.out) == 1U);
      BOOST_TEST(r.out.find(why) != std::string::npos);
    }
  }
  const sim::BuildIdentity here = sim::this_build();
  sim::BuildIdentity other = here;
  other.commit = "evil\n\x1b[2J" + std::string(100000, 'x');
  const std::pair<std::string, const char*> tokens[] = {
      {handmade_token(here, R"({"seed": 1e400})"), "number overflow"},
      {handmade_token(here, "{\"seed\":" + std::string(5000, '[') + std::string(5000, ']') + "}"),
       "nested deeper"},
      {handmade_token(here, R"({"seed": 1, "seed": 1})"), "duplicate key"},
      {handmade_token(other, sim::canonical_json(sim::Scenario{}, -1)), "evil\\n\\x1b[2J"},
      {"emitlab1." + std::string(70000, 'A'), "longer than 65536"},
  };
  for (const auto& [token, why] : tokens) {
    const auto r = cli("replay '" + token + "'");
    BOOST_TEST_CONTEXT(why << " -> " << r.out.substr(0, 300)) {
      BOOST_TEST(r.status == 2);
      BOOST_TEST(lines(r.out) == 1U);
      BOOST_TEST(r.out.find(why) != std::string::npos);
      BOOST_TEST(r.out.find('\x1b') == std::string::npos);
      BOOST_TEST(r.out.size() < 1000U);
    }
  }
  // The handmade encoder is the real format: a well-formed handmade token is read and run (its
  // zero choice count is then caught as a divergence).
  const auto good =
      cli("replay '" + handmade_token(here, sim::canonical_json(sim::Scenario{}, -1)) + "' --json");
  BOOST_TEST(good.status == 1);
  BOOST_TEST(good.out.find("replay diverged") != std::string::npos, good.out.substr(0, 300));
}
