// `emitlab merge` (cli/merge.h): each rule of the campaign schema's merge, and each way a set of
// shard lines can be refused.
#define BOOST_TEST_MODULE merge
#include <boost/test/unit_test.hpp>

#include "cli/merge.h"

namespace emitlab::cli {
namespace {

using nlohmann::json;

json shard(int k, int n, std::uint64_t schedules = 10, std::uint64_t cases = 0) {
  return json{{"emitlab_campaign", 1},
              {"kind", "explore"},
              {"campaign", {{"scope", "tiny"}, {"bound", 2}, {"mutant", ""}}},
              {"shard", k},
              {"shards", n},
              {"schedules", schedules},
              {"cases", cases},
              {"distinct_states", 3 + k},
              {"pruned", 2 * k},
              {"exhausted", true},
              {"stopped_by", nullptr},
              {"seconds", 0.5},
              {"violations", json::array()}};
}

json violation(std::uint64_t deviations, std::vector<std::uint64_t> ordinal, std::string rule) {
  return json{{"rule", std::move(rule)},  {"detail", "d"},
              {"deviations", deviations}, {"ordinal", std::move(ordinal)},
              {"schedule", "s"},          {"replay", "emitlab replay emitlab1.X"}};
}

ShardFile file(const std::string& name, const json& line) {
  return {name, line.dump() + "\n"};
}

std::vector<ShardFile> files(const std::vector<json>& lines) {
  std::vector<ShardFile> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out.push_back(file("s" + std::to_string(i) + ".json", lines[i]));
  }
  return out;
}

Merged ok(const std::vector<ShardFile>& f) {
  auto r = merge_shards(f);
  if (const auto* e = std::get_if<std::string>(&r)) BOOST_FAIL("unexpected error: " << *e);
  return std::get<Merged>(r);
}

std::string error(const std::vector<ShardFile>& f) {
  auto r = merge_shards(f);
  if (std::holds_alternative<Merged>(r)) BOOST_FAIL("merged, but an error was expected");
  return std::get<std::string>(r);
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

BOOST_AUTO_TEST_CASE(counts_add_up_and_clean_is_exit_0) {
  const Merged m = ok(files({shard(0, 3, 5, 1), shard(1, 3, 7, 2), shard(2, 3, 11, 4)}));
  BOOST_TEST(m.result["schedules"] == 23);
  BOOST_TEST(m.result["cases"] == 7);
  BOOST_TEST(m.result["distinct_states"] == 3 + 4 + 5);
  BOOST_TEST(m.result["pruned"] == 0 + 2 + 4);
  BOOST_TEST(m.result["exhausted"] == true);
  BOOST_TEST(m.result["verdict"] == "clean");
  BOOST_TEST(m.result["first_violation"].is_null());
  BOOST_TEST(m.result["seconds"] == 1.5);
  BOOST_TEST(m.exit_code == kMergeClean);
}

BOOST_AUTO_TEST_CASE(shards_in_any_order_and_several_lines_per_file) {
  ShardFile both{"both.json", shard(2, 3).dump() + "\n" + shard(0, 3).dump() + "\n"};
  const Merged m = ok({both, file("one.json", shard(1, 3))});
  BOOST_TEST(m.shards.size() == 3u);
  BOOST_TEST(m.shards[0]["shard"] == 0);
  BOOST_TEST(m.shards[2]["shard"] == 2);
  BOOST_TEST(m.result["schedules"] == 30);
}

BOOST_AUTO_TEST_CASE(one_unexhausted_shard_stops_the_campaign) {
  json s1 = shard(1, 2);
  s1["exhausted"] = false;
  s1["stopped_by"] = "max-seconds";
  const Merged m = ok(files({shard(0, 2), s1}));
  BOOST_TEST(m.result["exhausted"] == false);
  BOOST_TEST(m.result["verdict"] == "stopped");
  BOOST_TEST(m.result["stopped_by"] == json::array({"max-seconds"}));
  BOOST_TEST(m.exit_code == kMergeStopped);
}

BOOST_AUTO_TEST_CASE(first_violation_fewest_deviations_then_ordinal_then_shard) {
  std::vector<json> s{shard(0, 4), shard(1, 4), shard(2, 4), shard(3, 4)};
  s[0]["violations"].push_back(violation(2, {0}, "more-deviations"));  // earliest ordinal, but K=2
  s[1]["violations"].push_back(violation(1, {9}, "later-ordinal"));
  s[2]["violations"].push_back(violation(1, {3, 5}, "longer-tail"));
  s[3]["violations"].push_back(violation(1, {3, 4}, "the-first"));
  for (auto& x : s) x["exhausted"] = false, x["stopped_by"] = "violation";
  const Merged m = ok(files(s));
  BOOST_TEST(m.result["verdict"] == "violation");
  BOOST_TEST(m.exit_code == kMergeViolation);
  BOOST_TEST(m.result["violations"] == 4);
  BOOST_TEST(m.result["first_violation"]["rule"] == "the-first");
  BOOST_TEST(m.result["first_violation"]["shard"] == 3);
  // The same key in two shards: the smaller shard.
  s[1]["violations"][0] = violation(1, {3, 4}, "same-key-smaller-shard");
  BOOST_TEST(ok(files(s)).result["first_violation"]["rule"] == "same-key-smaller-shard");
  // A violation wins over being stopped or exhausted elsewhere.
  std::vector<json> one{shard(0, 2), shard(1, 2)};
  one[1]["violations"].push_back(violation(0, {5}, "r"));
  BOOST_TEST(ok(files(one)).exit_code == kMergeViolation);
}

BOOST_AUTO_TEST_CASE(missing_and_duplicated_shards_are_named) {
  const std::string missing = error(files({shard(0, 4), shard(2, 4)}));
  BOOST_TEST(has(missing, "missing shard(s) 1, 3"), missing);
  const std::string dup = error(
      {file("a.json", shard(0, 2)), file("b.json", shard(1, 2)), file("c.json", shard(1, 2))});
  BOOST_TEST(has(dup, "duplicated shard(s) 1 in b.json:1 c.json:1"), dup);
  const std::string both = error({file("a.json", shard(0, 3)), file("b.json", shard(0, 3))});
  BOOST_TEST(has(both, "missing shard(s) 1, 2"), both);
  BOOST_TEST(has(both, "duplicated shard(s) 0 in a.json:1 b.json:1"), both);
  BOOST_TEST(has(error({}), "no shard files"));
}

BOOST_AUTO_TEST_CASE(shards_of_different_campaigns_are_refused) {
  json other = shard(1, 2);
  other["campaign"]["bound"] = 3;
  const std::string campaign = error({file("a.json", shard(0, 2)), file("b.json", other)});
  BOOST_TEST(has(campaign, "bad b.json:1: its \"campaign\""), campaign);
  BOOST_TEST(has(campaign, "a.json:1"), campaign);
  json kind = shard(1, 2);
  kind["kind"] = "props";
  BOOST_TEST(has(error({file("a.json", shard(0, 2)), file("b.json", kind)}), "its \"kind\""));
  const std::string count = error({file("a.json", shard(0, 2)), file("b.json", shard(1, 3))});
  BOOST_TEST(has(count, "bad b.json:1: its \"shards\" 3 differs from 2"), count);
}

BOOST_AUTO_TEST_CASE(truncated_or_corrupt_lines_name_the_file) {
  const std::string line = shard(0, 1).dump();
  const std::string cut = error({{"cut.json", line.substr(0, line.size() / 2)}});
  BOOST_TEST(has(cut, "bad cut.json: truncated"), cut);
  const std::string no_newline = error({{"nl.json", line}});
  BOOST_TEST(has(no_newline, "bad nl.json: truncated"), no_newline);
  const std::string corrupt = error({{"bad.json", line.substr(0, 40) + "\n"}});
  BOOST_TEST(has(corrupt, "bad bad.json:1: not JSON"), corrupt);
  BOOST_TEST(has(error({{"empty.json", ""}}), "bad empty.json: empty"));
  BOOST_TEST(has(error({{"blank.json", line + "\n\n"}}), "bad blank.json:2: empty line"));
  BOOST_TEST(has(error({{"arr.json", "[1]\n"}}), "bad arr.json:1: the line is not a JSON object"));
}

BOOST_AUTO_TEST_CASE(every_field_is_checked) {
  for (const char* key :
       {"emitlab_campaign", "kind", "campaign", "shard", "shards", "schedules", "cases",
        "distinct_states", "pruned", "exhausted", "stopped_by", "seconds", "violations"}) {
    json s = shard(0, 1);
    s.erase(key);
    const std::string e = error(files({s}));
    BOOST_TEST_INFO(key);
    BOOST_TEST(has(e, std::string("no \"") + key + "\" field"), e);
  }
  const auto refused = [](const char* key, json value, const char* expect) {
    json s = shard(0, 1);
    s[key] = std::move(value);
    const std::string e = error(files({s}));
    BOOST_TEST_INFO(key);
    BOOST_TEST(has(e, expect), e);
  };
  refused("emitlab_campaign", 2, "this emitlab reads version 1");
  refused("kind", "fuzz", "expected \"explore\" or \"props\"");
  refused("shard", 1, "\"shard\" is 1; expected 0..0");
  refused("shards", 0, "expected a whole number >= 1");
  refused("schedules", -1, "\"schedules\" is -1");
  refused("pruned", "3", "\"pruned\" is \"3\"");
  refused("exhausted", 1, "\"exhausted\" is not true or false");
  refused("stopped_by", "tired", "\"stopped_by\" is \"tired\"");
  refused("seconds", -0.5, "\"seconds\" is -0.5");
  refused("violations", json::object(), "\"violations\" is not a list");
  json v = violation(1, {}, "r");
  refused("violations", json::array({v}), "violations[0] needs \"ordinal\"");
  v = violation(1, {2}, "r");
  v.erase("replay");
  refused("violations", json::array({v}), "violations[0] needs \"replay\" as a string");
}

}  // namespace
}  // namespace emitlab::cli
