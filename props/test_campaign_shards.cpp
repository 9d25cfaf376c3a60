// main(): the Boost.Test runner, or `campaign ...` (props_campaign's flags, this binary's
// properties too) and `replay TOKEN`.
#define BOOST_TEST_NO_MAIN
#define BOOST_TEST_ALTERNATIVE_INIT_API
// Property campaigns split into shards (props/campaign.h): the shard option, the case draws,
// and that N shards run exactly the cases of one unsharded run, each once, with the same
// verdicts and the same first violation (its shrunk case and replay command).
#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

#include "props/campaign.h"
#include "props/runner.h"

namespace emitlab::props {
namespace {

// A claim false on purpose: cases with more than 4 requests fail, small ones (the campaign's
// first cases) pass, so the first violation is not case 0. The claim is decided on
// the scenario, so shrinking runs the world only for the shrinks that still fail (the replay
// token needs one run).
Verdict check_few_requests(const Case& c) {
  if (c.scenario.workload.requests <= 4) return Verdict{};
  Verdict v = check_every_rule(c);
  if (!v.finding) {
    v.finding = Finding{"demo_few_requests", std::to_string(c.scenario.workload.requests) +
                                                 " requests (this property is false on purpose)"};
  }
  return v;
}
rc::Gen<Case> real_case() {
  return gen_case(gen_strategy(), {});
}
const PropertyRegistration kFalseClaim{
    PropertyDef{"campaign_false_claim", 40, real_case, check_few_requests}};

using Env = std::map<std::string, std::string>;
ShardParse parse(const std::string& text, const Env& env = {}) {
  return parse_shard(text, [&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

struct Draw {
  int index;
  std::uint64_t seed;
  int size;
  auto operator<=>(const Draw&) const = default;
};

struct Run {
  std::vector<Draw> draws;
  std::vector<ShardResult> results;
};

Run run_campaign(const char* property, int cases, int shards, std::uint64_t seed = 7) {
  Run run;
  for (int k = 0; k < shards; ++k) {
    const CampaignSpec spec{find_property(property), seed, cases, Shard{k, shards}};
    run.results.push_back(run_shard(spec, [&](int i, const CaseDraw& d) {
      run.draws.push_back({i, d.seed, d.size});
    }));
  }
  return run;
}

BOOST_AUTO_TEST_CASE(shard_option) {
  BOOST_TEST((parse("0/1").shard == Shard{0, 1}));
  BOOST_TEST((parse("3/4").shard == Shard{3, 4}));
  for (const char* bad :
       {"4/4", "1", "", "/4", "1/", "-1/4", "1/-4", "1/0", "a/4", "1/4x", " 1/4", "1/2000000000"}) {
    const ShardParse p = parse(bad);
    BOOST_TEST_INFO(bad);
    BOOST_TEST(!p.shard);
    BOOST_TEST(p.error.find("'" + std::string(bad) + "'") != std::string::npos, p.error);
  }
  BOOST_TEST(
      (parse("auto", {{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}).shard ==
       Shard{2, 4}));
  BOOST_TEST((parse("auto", {{"JOB_COMPLETION_INDEX", "1"}, {"EMITLAB_SHARD_COUNT", "3"}}).shard ==
              Shard{1, 3}));
  const ShardParse none = parse("auto");
  BOOST_TEST(!none.shard);
  BOOST_TEST(none.error.find("SLURM_ARRAY_TASK_ID") != std::string::npos, none.error);
  const ShardParse no_count = parse("auto", {{"JOB_COMPLETION_INDEX", "1"}});
  BOOST_TEST(!no_count.shard);
  BOOST_TEST(no_count.error.find("EMITLAB_SHARD_COUNT is not set") != std::string::npos,
             no_count.error);
  const ShardParse over =
      parse("auto", {{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}});
  BOOST_TEST(!over.shard);
  BOOST_TEST(over.error.find("SLURM_ARRAY_TASK_ID=4") != std::string::npos, over.error);
}

BOOST_AUTO_TEST_CASE(case_draws_depend_on_campaign_seed_and_index_only) {
  std::set<std::uint64_t> seeds;
  int previous_size = 0;
  for (int i = 0; i < 1000; ++i) {
    const CaseDraw d = case_draw(42, i, 1000);
    seeds.insert(d.seed);
    BOOST_TEST(d.size >= previous_size);  // small cases first, as RapidCheck does
    BOOST_TEST(d.size <= kMaxCaseSize);
    previous_size = d.size;
    BOOST_TEST(d.seed != case_draw(43, i, 1000).seed);
  }
  BOOST_TEST(seeds.size() == 1000u);
  BOOST_TEST(case_draw(42, 0, 1000).size == 0);
  BOOST_TEST(case_draw(42, 999, 1000).size == kMaxCaseSize);
}

BOOST_AUTO_TEST_CASE(shards_run_the_unsharded_cases_each_once) {
  constexpr int kCases = 14;  // not a multiple of the shard count: shards differ by one case
  const Run one = run_campaign("per_stream_delivery", kCases, 1);
  const Run four = run_campaign("per_stream_delivery", kCases, 4);
  BOOST_TEST(one.draws.size() == std::size_t{kCases});
  std::vector<Draw> sharded = four.draws;
  std::sort(sharded.begin(), sharded.end());
  BOOST_TEST((std::adjacent_find(sharded.begin(), sharded.end()) == sharded.end()));  // each once
  BOOST_TEST((sharded == one.draws));  // the unsharded run draws in index order
  int cases = 0;
  for (const auto& r : four.results) {
    BOOST_TEST(!r.violation);
    cases += r.cases;
  }
  BOOST_TEST(!one.results.front().violation);
  BOOST_TEST(cases == one.results.front().cases);
  BOOST_TEST(cases == kCases);
}

BOOST_AUTO_TEST_CASE(first_violation_is_the_unsharded_one) {
  constexpr int kCases = 40;
  const Run one = run_campaign("campaign_false_claim", kCases, 1);
  const Run four = run_campaign("campaign_false_claim", kCases, 4);
  BOOST_TEST_REQUIRE(one.results.front().violation.has_value());
  const ShardViolation& want = *one.results.front().violation;
  BOOST_TEST(want.index > 0);  // the fixture makes case 0 pass, so sharding decides
  const ShardViolation* first = nullptr;
  for (const auto& r : four.results) {
    if (r.violation && (first == nullptr || r.violation->index < first->index)) {
      first = &*r.violation;
    }
  }
  BOOST_TEST_REQUIRE(first != nullptr);
  BOOST_TEST(first->index == want.index);
  BOOST_TEST(first->rule == want.rule);
  BOOST_TEST(first->detail == want.detail);
  BOOST_TEST(first->schedule == want.schedule);
  BOOST_TEST(first->replay == want.replay);
  BOOST_TEST(first->replay.find(" replay emitlabprop1.campaign_false_claim.") != std::string::npos,
             first->replay);
  // The shard holding that case stopped there; cases before it ran in their own shards.
  const ShardResult& holder = four.results[static_cast<std::size_t>(want.index % 4)];
  BOOST_TEST(holder.cases == want.index / 4 + 1);
}

BOOST_AUTO_TEST_CASE(shard_line_has_the_schema_fields) {
  const CampaignSpec spec{find_property("per_stream_delivery"), 9, 10, Shard{1, 4}};
  ShardResult r;
  r.cases = 3;
  r.seconds = 0.5;
  const nlohmann::json line = shard_json(spec, r);
  std::set<std::string> keys;
  for (const auto& [k, v] : line.items()) keys.insert(k);
  const std::set<std::string> schema{
      "emitlab_campaign", "kind",   "campaign",  "shard",      "shards",  "schedules", "cases",
      "distinct_states",  "pruned", "exhausted", "stopped_by", "seconds", "violations"};
  BOOST_TEST((keys == schema));
  BOOST_TEST(line["kind"] == "props");
  BOOST_TEST(line["campaign"]["property"] == "per_stream_delivery");
  BOOST_TEST(line["campaign"]["cases"] == 10);
  BOOST_TEST(line["shard"] == 1);
  BOOST_TEST(line["shards"] == 4);
  BOOST_TEST(line["exhausted"] == true);
  BOOST_TEST(line["stopped_by"].is_null());
  r.violation = ShardViolation{"rule", "detail", 5, "case 5", "BIN replay X"};
  const nlohmann::json bad = shard_json(spec, r);
  BOOST_TEST(bad["stopped_by"] == "violation");
  BOOST_TEST(bad["exhausted"] == false);
  BOOST_TEST(bad["violations"][0]["ordinal"] == nlohmann::json::array({5}));
}

BOOST_AUTO_TEST_CASE(a_stopped_shard_reports_the_cases_it_checked_as_interrupted) {
  std::atomic<bool> stop{false};
  CampaignSpec spec{find_property("per_stream_delivery"), 9, 40, Shard{1, 4}};
  spec.progress = false;
  spec.stop = &stop;
  std::vector<int> seen;
  const ShardResult r = run_shard(spec, [&](int index, const CaseDraw&) {
    seen.push_back(index);
    if (seen.size() == 3) stop = true;  // as a signal arriving while the third case runs
  });
  BOOST_TEST(r.cases == 3);
  BOOST_TEST((seen == std::vector<int>{1, 5, 9}));
  BOOST_TEST(r.interrupted);
  BOOST_TEST(!r.violation);
  BOOST_TEST(!r.exhausted());
  const nlohmann::json line = shard_json(spec, r);
  BOOST_TEST(line["stopped_by"] == "interrupted");
  BOOST_TEST(line["exhausted"] == false);
  BOOST_TEST(line["cases"] == 3);
}

}  // namespace
}  // namespace emitlab::props

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "campaign") {
    return emitlab::props::campaign_main(argc - 1, argv + 1);
  }
  return emitlab::props::props_main(argc, argv);
}
