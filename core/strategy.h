// A strategy is a value: a base (drain, gather, hybrid), the Track A options and parameters.
// Specs are written BASE[+A1][+A2][+A3][@cap=SIZE][@threshold=SIZE].
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace emitlab {

enum class StrategyBase { Drain, Gather, Hybrid };
std::string_view to_string(StrategyBase base);

struct StrategySpec {
  static constexpr std::size_t kDefaultCap = 16 * 1024;   // gather as first shipped (597a474)
  static constexpr std::size_t kDefaultThreshold = 2048;  // hybrid's large-stream threshold
  static constexpr std::size_t kMinCap = 4 * 1024;
  static constexpr std::size_t kMaxCap = 256 * 1024;

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

inline constexpr std::string_view kStrategyGrammar =
    "expected BASE[+A1][+A2][+A3][@cap=SIZE][@threshold=SIZE] with BASE drain|gather|hybrid";

struct SpecParse {
  std::optional<StrategySpec> spec;
  std::string error;   // one line: "bad strategy 'TEXT': " + reason
  std::string reason;  // the bad part and the grammar, for a caller that names the text itself
};
SpecParse parse_strategy(std::string_view text);

// Combinations that make no sense (options on drain, a threshold without hybrid, a cap out of
// range) are refused by the parser with the reason here.
bool strategy_valid(const StrategySpec& spec, std::string* why);

// A4's safety rule. A gather pass carries at most cap - 1 + 16393 bytes (the cap is checked
// before each append; the largest frame is a full DATA frame). When it parks, the cipher-out
// ring (empty at the start of a gather pass, thanks to the entry gate) has taken 16384
// plaintext bytes per whole 16406-byte record it holds; the rest must fit the plaintext ring.
// Drain and hybrid also need room for drain's whole 16649-byte buffer, or drain never writes.
std::size_t min_plaintext_ring(const StrategySpec& spec, std::size_t cipher_out_bytes);

// What `emitlab strategies` lists: every base, option and parameter with what it does.
struct CatalogEntry {
  std::string name;
  std::string kind;  // base | option | parameter
  std::string what;
};
const std::vector<CatalogEntry>& strategy_catalog();

// What two strategies promise each other.
struct Promise {
  bool same_app_stream = false;  // identical decrypted application stream
  bool same_wire = false;        // identical SSL_write sequence, hence identical ciphertext
};
// input_independent: the run's peer input cannot depend on timing (lockstep pacing).
Promise promise_between(const StrategySpec& a, const StrategySpec& b, bool input_independent);

}  // namespace emitlab
