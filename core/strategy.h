// A strategy is a value: a base (drain, gather, hybrid), the Track A options and parameters.
// Specs are written BASE[+A1][+A2][+A3][@cap=SIZE][@threshold=SIZE].
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace emitlab {

enum class StrategyBase { Drain, Gather, Hybrid };
std::string_view to_string(StrategyBase base);

struct StrategySpec {
  static constexpr std::size_t kDefaultCap = 16384;       // gather as first shipped (597a474)
  static constexpr std::size_t kDefaultThreshold = 2048;  // hybrid's large-stream threshold

  StrategyBase base = StrategyBase::Drain;
  bool reuse_scratch = false;     // A1
  bool fast_path = false;         // A2
  bool release_at_close = false;  // A3
  std::size_t cap = kDefaultCap;  // A4 when not the default
  std::size_t threshold = kDefaultThreshold;

  // The canonical spelling: options in a fixed order, defaults omitted.
  std::string name() const;
  bool operator==(const StrategySpec&) const = default;
};

struct SpecParse {
  std::optional<StrategySpec> spec;
  std::string error;  // one line naming the bad part and the grammar
};
SpecParse parse_strategy(std::string_view text);

// Which options this build implements; a spec naming another one is refused by the parser.
bool strategy_implemented(const StrategySpec& spec, std::string* why);

// What two strategies promise each other.
struct Promise {
  bool same_app_stream = false;  // identical decrypted application stream
  bool same_wire = false;        // identical SSL_write sequence, hence identical ciphertext
};
// input_independent: the run's peer input cannot depend on timing (lockstep pacing).
Promise promise_between(const StrategySpec& a, const StrategySpec& b, bool input_independent);

}  // namespace emitlab
