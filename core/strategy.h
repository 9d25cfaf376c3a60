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

// The Track A options and the parameters, declared once: the parser, name(), the validity and
// promise rules, `emitlab strategies`, the grammar in help and errors, the property generator
// and check/'s tier-2 runs all read these two lists, in this order (the canonical spelling's).
struct TrackAOption {
  std::string_view name;  // written +NAME
  bool StrategySpec::*member;
  std::string_view what;  // for `emitlab strategies`
};
inline constexpr TrackAOption kTrackAOptions[] = {
    {"A1", &StrategySpec::reuse_scratch,
     "reuse the gather list, reference list, heap emit buffer and heap stage across passes "
     "(bounded: 4096 entries, 2048 references, 278537 bytes each buffer; freed at close)"},
    {"A2", &StrategySpec::fast_path,
     "a pass that is one contiguous entry is written straight from it, without the stage"},
    {"A3", &StrategySpec::release_at_close,
     "one reference per stream, taken at its first DATA slice and released after the flush "
     "of the pass in which the stream closes (queued, never inside session_send)"},
};

struct StrategyParameter {
  std::string_view name;  // written @NAME=SIZE
  std::size_t StrategySpec::*member;
  std::size_t default_value;
  bool hybrid_only;
  std::string_view what;
};
inline constexpr StrategyParameter kStrategyParameters[] = {
    {"cap", &StrategySpec::cap, StrategySpec::kDefaultCap, false,
     "@cap=SIZE, 4K..256K, default 16K: gather's byte cap; the plaintext ring grows to hold "
     "the worst-case parked tail (cap - 1 + 16393 minus what the cipher-out ring absorbs)"},
    {"threshold", &StrategySpec::threshold, StrategySpec::kDefaultThreshold, true,
     "@threshold=SIZE, default 2K, hybrid only: bodies above it latch the connection to "
     "gather while their stream is open"},
};

// The spec without (or with every one of) the Track A options.
StrategySpec without_options(StrategySpec spec);
StrategySpec with_all_options(StrategySpec spec);

// "BASE[+A1][+A2][+A3][@cap=SIZE][@threshold=SIZE]", from the lists above.
const std::string& strategy_grammar();

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
