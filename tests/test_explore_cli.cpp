// `emitlab explore` end to end, in child processes: the scope list, exits 0/3/2, the campaign
// result line (README "Campaigns on a cluster (Slurm)"), scope files, and --shard auto from Slurm's
// and Kubernetes' variables.
#define BOOST_TEST_MODULE explore_cli
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/mutant.h"
#include "sim/scope.h"
#include "tests/support/shell.h"

namespace {

using emitlab::testing::shell;

const std::string kCli = EMITLAB_CLI;
// Variables --shard auto reads, cleared so the test's own environment cannot leak in.
const std::string kNoShardEnv =
    "env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_MIN "
    "-u JOB_COMPLETION_INDEX -u EMITLAB_SHARD_COUNT ";

std::string explore(const std::string& args) {
  return kNoShardEnv + kCli + " explore " + args + " 2>/dev/null";
}

nlohmann::json line_of(const std::string& out) {
  BOOST_REQUIRE_MESSAGE(out.find('\n') == out.size() - 1, "one line expected: " + out);
  return nlohmann::json::parse(out);
}

BOOST_AUTO_TEST_CASE(list_scopes_names_every_scope_with_its_hazard) {
  const auto r = shell(explore("--list-scopes"));
  BOOST_TEST(r.status == 0);
  for (const auto& s : emitlab::sim::named_scopes()) {
    BOOST_TEST(r.out.find(s.name) != std::string::npos, s.name);
    BOOST_TEST(r.out.find(s.hazard) != std::string::npos, s.hazard);
  }
}

BOOST_AUTO_TEST_CASE(exhausted_clean_exits_0_and_a_bound_exits_3) {
  const auto clean = shell(explore("--scope shutdown-inflight --strategy gather --bound 1"));
  BOOST_TEST(clean.status == 0, clean.out);
  BOOST_TEST(clean.out.find("exhausted, clean") != std::string::npos, clean.out);
  const auto cut = shell(explore("--scope shutdown-inflight --bound 1 --max-schedules 3 --json"));
  BOOST_TEST(cut.status == 3, cut.out);
  const auto j = line_of(cut.out);
  BOOST_TEST(j["stopped_by"] == "max-schedules");
  BOOST_TEST(j["schedules"] == 3);
  BOOST_TEST(j["exhausted"] == false);
  BOOST_TEST(j["campaign"]["max_schedules"] == 3);
  // A time bound, the smallest the flag takes (1 ms): the explorer polls after every run, so it
  // stops after the first run that ends past it, long before the scope's schedules run out.
  const auto all = line_of(shell(explore("--scope shutdown-inflight --bound 1 --json")).out);
  const auto timed =
      shell(explore("--scope shutdown-inflight --bound 1 --max-seconds 0.001 --json"));
  BOOST_TEST(timed.status == 3, timed.out);
  const auto t = line_of(timed.out);
  BOOST_TEST(t["stopped_by"] == "max-seconds");
  BOOST_TEST(t["schedules"].get<std::uint64_t>() >= 1);
  BOOST_TEST(t["schedules"].get<std::uint64_t>() < all["schedules"].get<std::uint64_t>());
  BOOST_TEST(t["exhausted"] == false);
}

BOOST_AUTO_TEST_CASE(the_json_line_follows_the_campaign_schema) {
  const auto r =
      shell(explore("--scope shutdown-inflight --strategy hybrid --bound 1 --shard 1/2 --json"));
  BOOST_TEST(r.status == 0, r.out);
  const auto j = line_of(r.out);
  BOOST_TEST(j["emitlab_campaign"] == 1);
  BOOST_TEST(j["kind"] == "explore");
  const auto& c = j["campaign"];
  BOOST_TEST(c["scope"] == "shutdown-inflight");
  BOOST_TEST(c["strategy"] == "hybrid");
  BOOST_TEST(c["bound"] == 1);
  BOOST_TEST(c["mutant"] == "");
  BOOST_TEST(c["prune"] == true);
  BOOST_TEST(c["max_schedules"].is_null());
  BOOST_TEST(c["split_depth"] == 1);
  BOOST_TEST(j["shard"] == 1);
  BOOST_TEST(j["shards"] == 2);
  BOOST_TEST(j["cases"] == 0);
  BOOST_TEST(j["schedules"].get<int>() > 0);
  BOOST_TEST(j["stopped_by"].is_null());
  BOOST_TEST(j["exhausted"] == true);
  BOOST_TEST(j["seconds"].is_number());
  BOOST_TEST(j["violations"].is_array());
  BOOST_TEST(j["violations"].empty());
  for (const char* key : {"distinct_states", "pruned"}) BOOST_TEST(j.contains(key), key);
}

BOOST_AUTO_TEST_CASE(shard_auto_reads_slurm_and_kubernetes) {
  const std::string args = "--scope shutdown-inflight --bound 1 --shard auto --json";
  const auto slurm =
      shell("SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=4 " +
            explore(args).substr(kNoShardEnv.size()));
  BOOST_TEST(slurm.status == 0, slurm.out);
  BOOST_TEST(line_of(slurm.out)["shard"] == 2);  // task 3 of 1..4
  BOOST_TEST(line_of(slurm.out)["shards"] == 4);
  const auto k8s = shell("JOB_COMPLETION_INDEX=1 EMITLAB_SHARD_COUNT=3 " +
                         explore(args).substr(kNoShardEnv.size()));
  BOOST_TEST(k8s.status == 0, k8s.out);
  BOOST_TEST(line_of(k8s.out)["shard"] == 1);
  BOOST_TEST(line_of(k8s.out)["shards"] == 3);
  const auto none = shell(kNoShardEnv + kCli + " explore " + args + " 2>&1");
  BOOST_TEST(none.status == 2);
  BOOST_TEST(none.out.find("SLURM_ARRAY_TASK_ID") != std::string::npos, none.out);
}

BOOST_AUTO_TEST_CASE(bad_input_is_one_line_and_exit_2) {
  for (const char* args :
       {"--scope nosuch", "--scope shutdown-inflight --shard 3/3",
        "--scope shutdown-inflight --shard x", "--scope shutdown-inflight --bound 99",
        "--scope shutdown-inflight --strategy bogus", "--scope shutdown-inflight --mutant nosuch",
        "--strategy gather", "--scope shutdown-inflight --max-seconds -1"}) {
    const auto r = shell(kNoShardEnv + kCli + " explore " + args + " 2>&1");
    BOOST_TEST_CONTEXT(args) {
      BOOST_TEST(r.status == 2, r.out);
      BOOST_TEST(r.out.find('\n') == r.out.size() - 1, r.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(scope_files_are_strict_and_named_by_digest) {
  const std::string good = "explore_cli_scope.json";
  std::ofstream(good) << R"({"name": "mine", "hazard": "a test", "bound": 1, "hold": ["read_delay"],
                             "scenario": {"workload": {"requests": 1, "body": 100}}})";
  const auto r = shell(explore("--scope " + good + " --json"));
  BOOST_TEST(r.status == 0, r.out);
  const auto j = line_of(r.out);
  BOOST_TEST(j["campaign"]["scope"].get<std::string>().rfind("sha256:", 0) == 0u);
  BOOST_TEST(j["campaign"]["bound"] == 1);
  const std::string bad = "explore_cli_bad_scope.json";
  std::ofstream(bad) << R"({"scenario": {"workload": {"requests": 1}}, "bonud": 2})";
  const auto b = shell(kNoShardEnv + kCli + " explore --scope " + bad + " 2>&1");
  BOOST_TEST(b.status == 2, b.out);
  BOOST_TEST(b.out.find("bonud") != std::string::npos, b.out);
  std::remove(good.c_str());
  std::remove(bad.c_str());
}

// Item 7, the proof of teeth: every mutant of the bug zoo is caught by the explorer on its named
// scope, and the violation's replay line brings the same rule back in a fresh process.
BOOST_AUTO_TEST_CASE(every_mutant_is_caught_and_its_replay_reproduces_it) {
  for (const auto& m : emitlab::mutant_table()) {
    if (m.mutant == emitlab::Mutant::None) continue;
    const auto& t = emitlab::sim::teeth_scope(m.mutant);
    BOOST_TEST_CONTEXT(m.name << " on " << t.scope << " " << t.strategy) {
      const auto r = shell(explore("--scope " + std::string(t.scope) + " --strategy " +
                                   std::string(t.strategy) + " --bound " + std::to_string(t.bound) +
                                   " --mutant " + std::string(m.name) + " --json"));
      BOOST_TEST(r.status == 1, r.out);
      if (r.status != 1) continue;
      const auto j = line_of(r.out);
      BOOST_TEST(j["campaign"]["mutant"] == std::string(m.name));
      BOOST_REQUIRE(j["violations"].size() == 1u);
      const auto& v = j["violations"][0];
      const std::string rule = v["rule"];
      const std::string replay = v["replay"];
      BOOST_REQUIRE(replay.rfind("emitlab replay emitlab1.", 0) == 0u);
      const auto again = shell(kCli + replay.substr(std::string("emitlab").size()) + " 2>&1");
      BOOST_TEST(again.status == 1, again.out);
      BOOST_TEST(again.out.find("violation: " + rule + ":") != std::string::npos,
                 rule + " not in: " + again.out);
    }
  }
}

BOOST_AUTO_TEST_CASE(list_mutants_names_every_mutant_with_its_history_and_scope) {
  const auto r = shell(explore("--list-mutants --json"));
  BOOST_TEST(r.status == 0);
  const auto j = line_of(r.out);
  std::size_t n = 0;
  for (const auto& m : emitlab::mutant_table()) {
    if (m.mutant == emitlab::Mutant::None) continue;
    BOOST_REQUIRE(n < j.size());
    BOOST_TEST(j[n]["name"] == std::string(m.name));
    BOOST_TEST(j[n]["history"] == std::string(m.history));
    BOOST_TEST(emitlab::sim::find_scope(j[n]["scope"].get<std::string>()) != nullptr);
    ++n;
  }
  BOOST_TEST(j.size() == n);
}

}  // namespace
