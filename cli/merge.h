// `emitlab merge FILES... [--json]`: the shards of a campaign (explore or props), one JSON line
// each (the campaign schema, README "Campaigns on a cluster (Slurm)"), merged into the result of
// one unsharded run.
//
// Rules, each an error (exit 2, naming the file or the shards) when broken:
//   - every line parses and has every field of the schema with its type; a file with no line,
//     or a line without its closing newline, is truncated;
//   - every line has the same `kind`, `campaign` and `shards` (N) as the first one;
//   - shards 0..N-1 each appear exactly once (missing and duplicated ones are named).
// Merged: schedules, cases, distinct_states and pruned add up; exhausted is the AND; the first
// violation is the smallest (deviations, ordinal), then the smallest shard and position. The
// verdict and exit: violation (1) if any shard has one, else clean (0) when every shard is
// exhausted, else stopped by a bound (3).
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>
#include <variant>
#include <vector>

namespace emitlab::cli {

inline constexpr int kMergeClean = 0;
inline constexpr int kMergeViolation = 1;
inline constexpr int kMergeBadInput = 2;
inline constexpr int kMergeStopped = 3;

struct ShardFile {
  std::string name;  // what errors call it (the path)
  std::string text;  // its whole content
};

struct Merged {
  nlohmann::json result;               // the merged line (printed by --json)
  std::vector<nlohmann::json> shards;  // the shard lines, by shard index
  int exit_code = kMergeClean;
};

// The merged campaign, or the one-line error.
std::variant<Merged, std::string> merge_shards(const std::vector<ShardFile>& files);

// The human summary: one line per shard, the totals, the verdict and the first violation.
void print_merged(std::ostream& os, const Merged& m);

}  // namespace emitlab::cli
