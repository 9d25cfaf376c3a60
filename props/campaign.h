// A property campaign split into shards: case i of a campaign of TOTAL cases is drawn
// from a seed derived from the campaign's seed and i alone, at a size derived from i and TOTAL
// alone, and shard K of N runs the cases i with i % N == K, in increasing i. So N shards together
// run exactly the cases one unsharded run of TOTAL cases runs, each once, and a case's verdict
// (and its shrunk counterexample) does not depend on which shard ran it.
//
// A shard stops at its first violation, shrinks it (deterministically: the first failing shrink,
// repeatedly, as RapidCheck does) and reports it with its case index as the ordinal, so the
// merged first violation (smallest index) is the one the unsharded run stops at.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "props/shard.h"
#include "props/suite.h"

namespace emitlab::props {

struct CampaignSpec {
  const PropertyDef* def = nullptr;
  std::uint64_t seed = 0;
  int cases = 0;  // the whole campaign's, over every shard
  Shard shard;
  bool progress = true;  // a line on stderr per tenth of the shard's cases (--quiet: none)
  // Read before each case: once true the shard stops there and reports what it checked
  // (stopped_by "interrupted"). campaign_main points it at its SIGINT/SIGTERM flag.
  const std::atomic<bool>* stop = nullptr;
};

// The largest case size (RapidCheck's default max_size); sizes grow from 0 with the index.
inline constexpr int kMaxCaseSize = 100;
// Shrink attempts per violation, at most (keeps a shard finite; RapidCheck has no such bound).
inline constexpr int kMaxShrinkTries = 5000;

// How case `index` of a campaign of `total` cases is drawn.
struct CaseDraw {
  std::uint64_t seed = 0;
  int size = 0;
};
CaseDraw case_draw(std::uint64_t campaign_seed, int index, int total);
// Whether shard `s` runs case `index`.
bool runs_case(const Shard& s, int index);

struct ShardViolation {
  std::string rule;
  std::string detail;
  int index = 0;         // the case's index in the campaign (the ordinal)
  std::string schedule;  // the case in words: index, seed, size, shrink steps
  std::string replay;    // reruns the shrunk case: BINARY replay emitlabprop1.TOKEN
};

struct ShardResult {
  int cases = 0;  // cases checked by this shard (up to and including a violating one)
  double seconds = 0;
  std::optional<ShardViolation> violation;
  bool interrupted = false;  // CampaignSpec::stop ended it before its last case
  bool exhausted() const { return !violation && !interrupted; }
};

// Called before each case is checked (tests record the draws; progress lines).
using CaseObserver = std::function<void(int index, const CaseDraw& draw)>;

// Runs the shard's cases. Lifetime: spec.def must outlive the call.
ShardResult run_shard(const CampaignSpec& spec, const CaseObserver& observer = {});

// The shard's line in the campaign schema (README "Campaigns on a cluster (Slurm)", kind "props").
nlohmann::json shard_json(const CampaignSpec& spec, const ShardResult& result);

// `props_campaign` (and any props binary's `campaign` command): parses the flags, runs the
// shard, writes its line. Exit 0 clean, 1 violation or a result line that could not be written
// (one line naming the file), 2 bad usage, 130/143 stopped by SIGINT/SIGTERM (the line of the
// cases checked is still written, stopped_by "interrupted").
int campaign_main(int argc, char** argv);

}  // namespace emitlab::props
