// Which part of a campaign this process runs: `--shard K/N` (0 <= K < N), or `--shard auto`,
// read from the batch system's environment (Slurm array jobs: SLURM_ARRAY_TASK_ID and
// SLURM_ARRAY_TASK_COUNT; Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX and
// EMITLAB_SHARD_COUNT, since Kubernetes gives the index only).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace emitlab::props {

struct Shard {
  int index = 0;
  int count = 1;
  bool operator==(const Shard&) const = default;
};

// The most shards a campaign splits into (a bound on the index arithmetic, not a policy).
inline constexpr int kMaxShards = 1 << 20;

struct ShardParse {
  std::optional<Shard> shard;
  std::string error;  // one line naming the value and what is allowed, when !shard
};

// `env` reads one variable (nullptr when unset); the default is std::getenv.
using EnvReader = std::function<const char*(const char*)>;
ShardParse parse_shard(std::string_view text, const EnvReader& env = {});

}  // namespace emitlab::props
