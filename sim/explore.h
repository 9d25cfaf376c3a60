// The explorer (model checker): an enumerating ChoiceSource that walks the tree of
// choice sequences depth first, re-running the world from the start for every schedule, in
// process. After TigerBeetle's exhaustigen (replay a prefix, then defaults) with CHESS's
// iterative context bounding: iteration K runs every schedule with exactly K answers that
// differ from their decision's default, K = 0, 1, 2, ..., so the failing schedule with the
// fewest deviations is met first.
//
// Domains. A question is answered from a few representative values, the first of which is the
// default (what a schedule that does not deviate answers):
//   ranges of bytes (read_chunk, stream_chunk): the largest (default), the smallest, the middle;
//   delays (write_delay, latency, read_delay, pause_length, window_delay, handler_delay,
//     stream_interval): the shortest (default), the longest, and one nanosecond before and after
//     every pending event whose offset from now lies inside the range: where the new event
//     lands among the pending ones is what a delay decides;
//   yes/no questions: no (default), yes; completion_sync and window_release: yes (default: a
//     synchronous completion, a released window), no;
//   which-of-n questions (ready_event, reset_which): every alternative, the first by default.
// Every value is one the seeded generator can draw (ranges stay inside [min, max]; a chance of
// 0 or 1000 permille is never asked), so no schedule is explored that a seed could not produce.
// Questions asked while the connection's TLS handshake runs, and labels a scope holds, are
// answered with their default only.
//
// The tree. A node is a schedule prefix: its deviations (ask position, domain value), in
// increasing position. Running a node answers defaults after its last deviation and reveals its
// children: every (position, non-default value) after the last deviation, below the depth
// bound. Iteration K visits nodes with fewer than K deviations only to learn their children (a
// run, not a schedule) and counts the nodes with exactly K deviations as its schedules.
//
// Pruning. At a pruning point (a question asked at one place in the world's code, with no
// server call on the stack: ChoiceContext::state_digest) the rest of the run is a function of
// the world's state and the remaining answers. The key is (state digest, checker digest,
// deviations still to place, distance to the depth bound). When a later node of the same
// subtree reaches a key already seen, its children from that point on are exactly the
// continuations already explored from the first node with that key, so they are skipped
// (counted as pruned). The world's digest covers the server's TLS state, rings and write in
// flight, nghttp2's streams and windows, the emitter's pins (the last pass's parked slice or
// deferred frame) and hybrid's latch, the counters end-of-run rules compare (records made and
// parsed, references taken and released, A1's growth, which fixes the emitter's scratch: its
// capacity doubles until the busiest pass fits, its contents are cleared every pass), the link
// both ways with arrivals relative to now, the peer's parse position and what it received (by
// digest), its streams, windows and counters, and the pending events relative to now; the checker
// digest covers the step rules' own state. Absolute virtual time is left out; so is the pass count.
// Soundness: two runs with equal keys behave the same from that point on (the world is
// deterministic between choices, and nothing outside the digest is read by the code that follows),
// and every rule's verdict on the continuation depends only on what the digest covers, except the
// liveness bound, which compares absolute virtual times against a serial worst case doubled
// (a margin no small scope comes near). A violation that is already determined when the key
// repeats is visible in the first run of that prefix (its default continuation), which was run
// and checked. tests/test_explore.cpp checks that pruning never changes a scope's verdict.
//
// Sharding, for campaigns beyond one process. The subtrees below the split depth (1: the root's
// children) are dealt out by their index, subtree i to shard i % N; the root's own schedule (K = 0)
// is shard 0's. The table of seen states is scoped to one subtree of one iteration, sharded or not,
// so N shards' schedules, distinct states and pruned counts add up exactly to one run's. A
// violation's ordinal [K, subtree, schedule within the subtree] orders violations as one
// unsharded run meets them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "sim/choice.h"

namespace emitlab::sim {

struct ExploreLimits {
  std::uint32_t bound = 2;          // most deviations per schedule (K)
  std::uint64_t max_depth = 0;      // deviate only before this ask (0: anywhere)
  std::uint64_t max_schedules = 0;  // 0: no limit
  bool prune = true;
  std::uint32_t shard = 0, shards = 1;             // this shard's index and the count
  std::vector<Decision> hold;                      // labels answered with their default only
  static constexpr std::uint32_t kSplitDepth = 1;  // subtrees dealt out to shards
  static constexpr std::uint32_t kMaxBound = 8;
};

// What one schedule's checked run concluded (the explorer's caller runs and checks it).
struct ScheduleVerdict {
  bool violation = false;
  std::string rule, detail;
  std::string token;  // the replay token of the run (needed for a violation only)
};

struct Deviation {
  std::uint64_t position = 0;  // which question (0-based, every question counted)
  std::uint32_t value = 0;     // index into that question's domain (0 is the default)
};

struct FoundViolation {
  std::string rule, detail, token;
  std::uint32_t deviations = 0;
  std::vector<std::uint64_t> ordinal;  // [K, subtree, schedule within the subtree]
  std::string schedule;                // the deviations in words
};

struct ExploreProgress {
  std::uint64_t schedules = 0;        // counted schedules (exactly K deviations in iteration K)
  std::uint64_t runs = 0;             // world runs, including the prefixes re-run to learn
  std::uint64_t distinct_states = 0;  // keys entered in the seen tables
  std::uint64_t pruned = 0;           // nodes whose remaining children a seen key cut off
  std::uint32_t k = 0;                // the iteration under way
};

struct ExploreReport {
  ExploreProgress counts;
  bool exhausted = false;  // every iteration up to the bound ran to its end
  std::string stopped_by;  // "", "max-schedules", "max-seconds", "interrupted", "violation"
  std::optional<FoundViolation> violation;
};

class Explorer {
 public:
  class Source;  // the enumerating ChoiceSource handed to each run
  // Runs the world once with `choices` as its source (and the checker digest as `state`, set
  // through Source::set_checker_state before the run starts) and checks it.
  using RunSchedule = std::function<ScheduleVerdict(Source& choices)>;
  // Called after every run; returns a reason to stop ("max-seconds", "interrupted") or "".
  using Poll = std::function<std::string(const ExploreProgress&)>;

  Explorer(ExploreLimits limits, RunSchedule run, Poll poll = {});
  ExploreReport explore();

 private:
  // Runs `node` in iteration k; false once the exploration must stop.
  bool visit(const std::vector<Deviation>& node, std::uint32_t k, std::uint64_t subtree,
             ExploreReport& report);
  bool poll(ExploreReport& report);

  ExploreLimits limits_;
  RunSchedule run_;
  Poll poll_;
  std::uint64_t within_subtree_ = 0;        // schedules of the current subtree so far
  std::unordered_set<std::uint64_t> seen_;  // keys of the current subtree (lookups only)
};

class Explorer::Source final : public ChoiceSource {
 public:
  std::uint32_t choose(Decision label, std::uint32_t n, std::uint32_t odds_of_one) override;
  std::uint32_t choose_between(Decision label, const Range& r) override;
  void bind(const ChoiceContext* world) override { world_ = world; }
  std::string explain() const override { return why_; }
  void set_checker_state(std::function<std::uint64_t()> state) { checker_ = std::move(state); }

 private:
  friend class Explorer;
  struct Question {
    std::uint64_t position;
    Decision label;
    std::vector<std::uint64_t> values;  // domain: answers as indices from the range's min
    std::uint64_t base;                 // the range's min (0 for pick and chance)
    bool range;
  };
  std::uint32_t answer(Decision label, std::vector<std::uint64_t> values, std::uint64_t base,
                       bool range);
  std::string words(const Question& q, std::uint32_t value) const;

  // Set by the explorer before each run.
  const ExploreLimits* limits_ = nullptr;
  const std::vector<Deviation>* node_ = nullptr;
  std::uint32_t remaining_ = 0;                        // deviations still to place below this node
  std::unordered_set<std::uint64_t>* seen_ = nullptr;  // null: no pruning for this node
  // Filled by the run.
  std::uint64_t asked_ = 0;
  std::size_t next_deviation_ = 0;
  bool cut_ = false;  // a seen key stopped collecting children
  std::uint64_t new_keys_ = 0;
  std::vector<Question> children_;  // questions after the last deviation, in order
  std::vector<Question> chosen_;    // the questions this node deviates at, in order
  std::string why_;
  const ChoiceContext* world_ = nullptr;
  std::function<std::uint64_t()> checker_;
  std::vector<std::uint64_t> offsets_;
};

// "read_chunk #12 = 1024 (default 65536); ..." for a found schedule.
std::string describe_deviations(const std::vector<std::string>& words);

}  // namespace emitlab::sim
