// Replay tokens: a compact text holding everything needed to rerun a run in another process:
// the canonical scenario, the recorded choices and the identity of the build that made it.
//
// Format: "emitlab1." + base64url (no padding) of a zlib stream of
//   "EMR1" | str commit | str OpenSSL version | str nghttp2 version | str scenario (compact JSON)
//   | u8 form | varint choice count | u64 choice digest (little endian)
//   | form 1 only: varint k, then k x (u8 label, varint n, varint index)
// where str is a varint length and bytes. Form 1 carries the choices themselves (runs whose
// list stays under kMaxListBytes); form 0 says they were the scenario seed's generator's, and
// carries their count and digest so that a replay that decides differently is detected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/choice.h"
#include "sim/scenario.h"

namespace emitlab::sim {

struct RunResult;

struct BuildIdentity {
  std::string commit;
  std::string openssl;
  std::string nghttp2;
  bool operator==(const BuildIdentity&) const = default;
  std::string text() const;  // "commit X, OpenSSL Y, nghttp2 Z"
};
BuildIdentity this_build();

struct ReplayToken {
  static constexpr std::size_t kMaxListBytes = 16 * 1024;
  BuildIdentity build;
  Scenario scenario;
  std::uint64_t choice_count = 0;
  std::uint64_t choice_digest = 0;
  std::optional<std::vector<Choice>> choices;  // empty: the seed's generator made them
};

ReplayToken token_of(const RunResult& run);
std::string encode(const ReplayToken& token);

// The longest token decode() reads: what encode() makes of the largest choice list it embeds
// and a canonical scenario (about 1.5 KB) is under a third of it (base64 adds a third).
inline constexpr std::size_t kMaxTokenChars = 64 * 1024;
static_assert(ReplayToken::kMaxListBytes * 4 / 3 * 2 < kMaxTokenChars);

struct TokenParse {
  std::optional<ReplayToken> token;
  std::string error;  // one line
};
TokenParse decode(std::string_view text);

// Whether `run` (a replay of `token`) made exactly the recorded choices; empty when it did.
std::string replay_mismatch(const ReplayToken& token, const RunResult& run);

}  // namespace emitlab::sim
