#include "props/shard.h"

#include <charconv>
#include <cstdlib>

namespace emitlab::props {
namespace {

// A whole decimal number in [0, kMaxShards], nothing else (no sign, no spaces).
std::optional<int> number(std::string_view text) {
  int v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < 0 || v > kMaxShards) {
    return std::nullopt;
  }
  return v;
}

ShardParse fail(std::string error) {
  return {std::nullopt, std::move(error)};
}

ShardParse check(int index, int count, const std::string& what) {
  if (count < 1) return fail("bad " + what + ": the shard count must be at least 1");
  if (index >= count) {
    return fail("bad " + what + ": shard " + std::to_string(index) + " is not below the count " +
                std::to_string(count) + " (shards are 0..N-1)");
  }
  return {Shard{index, count}, {}};
}

ShardParse from_env(const EnvReader& env, const char* index_name, const char* count_name) {
  const char* index_text = env(index_name);
  const char* count_text = env(count_name);
  const std::string what = std::string("--shard auto (") + index_name + "=" +
                           (index_text ? index_text : "") + ", " + count_name + "=" +
                           (count_text ? count_text : "") + ")";
  if (count_text == nullptr) {
    return fail("bad " + what + ": " + count_name + " is not set");
  }
  const auto index = number(index_text);
  const auto count = number(count_text);
  if (!index || !count) return fail("bad " + what + ": expected whole numbers");
  return check(*index, *count, what);
}

}  // namespace

ShardParse parse_shard(std::string_view text, const EnvReader& env_in) {
  const EnvReader env = env_in ? env_in : [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
  };
  if (text == "auto") {
    if (env("SLURM_ARRAY_TASK_ID") != nullptr) {
      return from_env(env, "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT");
    }
    if (env("JOB_COMPLETION_INDEX") != nullptr) {
      return from_env(env, "JOB_COMPLETION_INDEX", "EMITLAB_SHARD_COUNT");
    }
    return fail(
        "bad --shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm array job) nor "
        "JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; use --shard K/N");
  }
  const std::string what = "--shard '" + std::string(text) + "'";
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return fail("bad " + what + ": expected K/N (0 <= K < N) or auto");
  }
  const auto index = number(text.substr(0, slash));
  const auto count = number(text.substr(slash + 1));
  if (!index || !count) {
    return fail("bad " + what + ": expected K/N with whole numbers (0 <= K < N <= " +
                std::to_string(kMaxShards) + ") or auto");
  }
  return check(*index, *count, what);
}

}  // namespace emitlab::props
