// The choice interface: every nondeterministic decision of the world goes through one Chooser.
// The world asks "which of these n alternatives?" with a label naming the decision and gets an
// index back; the Chooser records the sequence of (label, n, index). Because everything between
// two decisions is deterministic, that sequence is the whole run.
//
// Three sources answer: SeededChoices (a normal run: xoshiro256** from the seed), ListChoices (a
// replay of a recorded sequence) and, later, the explorer's enumerator (any ChoiceSource).
// Decisions with a single alternative are never asked and never recorded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/prng.h"

namespace emitlab::sim {

// At most 32 labels: the replay token packs a label in 5 bits.
enum class Decision : std::uint8_t {
  ReadyEvent,      // which of the events due at this instant runs first
  CompletionSync,  // mixed completions: does this write complete inside its submit
  WriteDelay,      // ns from a write submission to its asynchronous completion
  Latency,         // ns of one-way propagation of a flush or a completed write
  ReadChunk,       // bytes the peer reads at once
  ReadDelay,       // ns before the peer reads bytes that arrived
  ReadPause,       // does the peer pause reading after this read
  PauseLength,     // ns of that pause
  InputAfterPass,  // does arrived client input reach the server right after this pass
  Ping,            // does the peer send a PING after this read
  Reset,           // does the peer reset a stream after this read
  ResetWhich,      // which open stream it resets
  Goaway,          // does the peer send GOAWAY after this response completed
  AbruptClose,     // does the peer drop the connection after this read
  WindowRelease,   // withheld window: release the credit at this tick
  WindowDelay,     // ns to the next window tick
  HandlerDelay,    // ns the handler takes before responding
  StreamChunk,     // bytes of the next streaming body chunk
  StreamInterval,  // ns until the next streaming body chunk
  Settings,        // does the peer send an empty SETTINGS frame after this read
  kCount
};
inline constexpr std::size_t kDecisions = static_cast<std::size_t>(Decision::kCount);
static_assert(kDecisions <= 32);
std::string_view to_string(Decision d);

struct Choice {
  Decision label = Decision::ReadyEvent;
  std::uint32_t n = 0;
  std::uint32_t index = 0;
  bool operator==(const Choice&) const = default;
};

inline constexpr std::uint32_t kUniform = 0xFFFFFFFF;
inline constexpr std::uint32_t kNoAnswer = 0xFFFFFFFF;

struct Range {
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  bool operator==(const Range&) const = default;
};

// What the world tells a source about itself while a run is under way (the explorer uses it
// to pick representative delays and to recognise states it has already explored). Valid
// between bind(this) and bind(nullptr), and only inside choose().
class ChoiceContext {
 public:
  virtual ~ChoiceContext() = default;
  // Offsets from now (ns) of the pending events, ascending, without duplicates.
  virtual void pending_offsets(std::vector<std::uint64_t>& out) const = 0;
  // The question comes from a connection whose TLS handshake has not finished.
  virtual bool handshaking() const = 0;
  // A digest of everything the rest of the run depends on, when this question is asked at a
  // point where that state is all there is (no server call on the stack, a label asked at one
  // place in the world's code); empty elsewhere. What it covers: sim/explore.h.
  virtual bool state_digest(Decision label, std::uint64_t& out) const = 0;
};

class ChoiceSource {
 public:
  virtual ~ChoiceSource() = default;
  // The world binds itself before its first question and unbinds (null) when the run ends.
  virtual void bind(const ChoiceContext* /*world*/) {}
  // A value in [r.min, r.max] as an index from r.min (r.max > r.min, span within 32 bits); the
  // default asks choose() with n = span, so generators and replays see one uniform question.
  virtual std::uint32_t choose_between(Decision label, const Range& r) {
    return choose(label, static_cast<std::uint32_t>(r.max - r.min + 1), kUniform);
  }
  // An index in [0, n), n >= 2, or kNoAnswer when the source cannot answer this question (a
  // replay that diverged): the world then stops. Sources never throw, because choices are
  // asked from inside the server's call stack. `odds_of_one` (permille, or kUniform) is a hint
  // for binary decisions that only a generator uses: replay and enumeration ignore it.
  virtual std::uint32_t choose(Decision label, std::uint32_t n, std::uint32_t odds_of_one) = 0;
  // Why the last kNoAnswer was given.
  virtual std::string explain() const { return "the choice source gave no answer"; }
};

class SeededChoices final : public ChoiceSource {
 public:
  explicit SeededChoices(std::uint64_t seed);
  std::uint32_t choose(Decision label, std::uint32_t n, std::uint32_t odds_of_one) override;

 private:
  Xoshiro256 rng_;
};

// Replays recorded answers; the labels and sizes asked must match the recording when known.
class ListChoices final : public ChoiceSource {
 public:
  explicit ListChoices(std::vector<Choice> recorded) : recorded_(std::move(recorded)) {}
  std::uint32_t choose(Decision label, std::uint32_t n, std::uint32_t odds_of_one) override;
  std::string explain() const override { return why_; }
  std::size_t consumed() const { return next_; }
  std::size_t size() const { return recorded_.size(); }

 private:
  std::vector<Choice> recorded_;
  std::size_t next_ = 0;
  std::string why_;
};

// What a run decided: the count and digest of every choice, and the list itself while it stays
// under the keep limit.
struct ChoiceRecord {
  std::uint64_t count = 0;
  std::uint64_t digest = 0x243f6a8885a308d3ULL;  // over (label, n, index) in order
  std::vector<Choice> list;
  bool complete = true;  // list holds every choice
  void add(const Choice& c, std::size_t keep_limit);
};

// The world's single door to its source.
class Chooser {
 public:
  static constexpr std::size_t kDefaultKeep = std::size_t{1} << 16;
  explicit Chooser(ChoiceSource& source, std::size_t keep_limit = kDefaultKeep)
      : source_(&source), keep_limit_(keep_limit) {}

  std::uint32_t pick(Decision label, std::uint32_t n);
  // permille 0 is never and 1000 always: neither is a decision.
  bool chance(Decision label, std::uint32_t permille);
  // Uniform in [r.min, r.max]; the span must fit 32 bits (scenarios check it).
  std::uint64_t between(Decision label, const Range& r);
  const ChoiceRecord& record() const { return record_; }
  // Once the source could not answer, every later question gets 0 and the world stops at the
  // end of the event.
  bool diverged() const { return !divergence_.empty(); }
  const std::string& divergence() const { return divergence_; }

 private:
  std::uint32_t ask(Decision label, std::uint32_t n, std::uint32_t odds_of_one,
                    const Range* range = nullptr);
  ChoiceSource* source_;
  std::size_t keep_limit_;
  ChoiceRecord record_;
  std::string divergence_;
};

}  // namespace emitlab::sim
