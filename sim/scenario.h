// A scenario describes a run completely: seed, strategy, workload, link, peer behaviour and ring
// sizes. Its canonical JSON (every key, fixed order) is what --print-scenario writes and what a
// replay token carries. Reading is strict: an unknown key, a wrong type or a value out of range
// is an error naming the key, the value and what is allowed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutant.h"
#include "core/strategy.h"
#include "sim/choice.h"
#include "sim/tls_handshake.h"

namespace emitlab::sim {

enum class Pacing : std::uint8_t { Lockstep, ClosedLoop };
enum class CompletionMode : std::uint8_t { Sync, Async, Mixed };
enum class WindowPolicy : std::uint8_t { Wide, Eager, Half, Stingy, Withheld };
std::string_view to_string(Pacing p);
std::string_view to_string(CompletionMode m);
std::string_view to_string(WindowPolicy w);

// Relative weights of the response kinds; which kind a request gets is a pure function of the
// seed and the request id (workload content, not a timing decision).
struct ResponseKinds {
  std::uint32_t buffered = 1;   // a refcounted body allocated through the Allocator port
  std::uint32_t streaming = 0;  // chunks appended over virtual time, then end_body
  std::uint32_t head = 0;       // a HEAD request: headers with content-length, no body
  std::uint32_t empty = 0;      // 200 with no body and no data provider
  std::uint32_t shared = 0;     // one immutable shared body (retain/release are no-ops)
  std::uint32_t total() const { return buffered + streaming + head + empty + shared; }
  bool operator==(const ResponseKinds&) const = default;
};

struct Scenario {
  static constexpr std::uint32_t kVersion = 1;
  static constexpr std::uint64_t kMaxBodiesPerConnection = std::uint64_t{1} << 30;

  std::uint64_t seed = 1;
  StrategySpec strategy;
  // A fault point of the bug zoo armed on every connection (core/mutant.h); `none` normally.
  Mutant mutant = Mutant::None;

  struct Workload {
    std::uint32_t connections = 1;
    // Connections open at once, at most: when one ends (nothing of it is left to happen) the
    // next opens. 0 opens all at once, at time 0 (h2load -c).
    std::uint32_t open_connections = 0;
    std::uint32_t concurrency = 100;  // streams open at once per connection (h2load -m)
    std::uint32_t requests = 100;     // in total, spread over the connections (h2load -n)
    Pacing pacing = Pacing::Lockstep;
    Range body{3, 3};  // body bytes; a request's size is drawn from the seed
    ResponseKinds kinds;
    std::uint32_t trailers_permille = 0;  // responses (with a body provider) with trailers
    Range request_headers{0, 0};          // extra request headers per request
    Range header_value{0, 0};             // bytes of each extra header's value
    Range handler_delay_ns{0, 0};         // time the handler takes before responding
    Range stream_chunk{1024, 16384};      // bytes per streaming chunk
    Range stream_interval_ns{0, 10000};
    bool operator==(const Workload&) const = default;
  } workload;

  struct Link {
    CompletionMode completions = CompletionMode::Async;
    std::uint32_t sync_permille = 500;     // mixed: share of synchronous completions
    Range write_delay_ns{1000, 5000};      // asynchronous completion delay, before size/bandwidth
    Range latency_ns{20000, 20000};        // one-way propagation, each direction
    std::uint64_t bandwidth = 1250000000;  // bytes per virtual second; 0 is unlimited
    std::uint64_t buffer = 262144;         // bytes between the server's writes and the peer's reads
    Range read_chunk{1024, 65536};         // bytes per peer read
    Range read_delay_ns{0, 2000};
    std::uint32_t pause_permille = 0;  // after a read, the peer stops reading for a while
    Range pause_ns{10000, 100000};
    bool operator==(const Link&) const = default;
  } link;

  struct Peer {
    WindowPolicy window = WindowPolicy::Wide;
    std::uint32_t initial_window = 65535;     // SETTINGS_INITIAL_WINDOW_SIZE (not wide)
    std::uint32_t connection_window = 65535;  // connection receive window (not wide)
    std::uint32_t stingy_increment = 1024;
    Range window_delay_ns{1000, 50000};
    std::uint32_t ping_permille = 0;          // after a read
    std::uint32_t reset_permille = 0;         // after a read: RST_STREAM an open stream
    std::uint32_t goaway_permille = 0;        // after a response completes
    std::uint32_t abrupt_close_permille = 0;  // after a read
    std::uint32_t input_after_pass_permille = 500;
    std::uint32_t settings_permille = 0;  // after a read: an empty SETTINGS (the server ACKs it)
    std::uint32_t empty_data_frames = 0;  // per request: empty DATA frames before END_STREAM
    // Any behaviour that floods the server (see core's FloodLimits).
    bool floods() const {
      return ping_permille > 0 || settings_permille > 0 || reset_permille > 0 ||
             empty_data_frames > 0;
    }
    bool operator==(const Peer&) const = default;
  } peer;

  struct Rings {
    std::uint32_t cipher_out_records = 0;  // 1..16 x 17408 bytes; 0 is the 64 KiB default
    std::uint64_t plaintext = 32768;
    std::uint64_t cipher_in = 17408;
    bool operator==(const Rings&) const = default;
  } rings;

  struct Tls {
    // Certificate is what a real server does and what every stored wire hash was made with; the
    // explorer's scopes choose psk (see sim/tls_handshake.h).
    TlsHandshake handshake = TlsHandshake::Certificate;
    bool operator==(const Tls&) const = default;
  } tls;

  bool operator==(const Scenario&) const = default;

  // The server's output cannot depend on timing: lockstep pacing, wide windows, and no
  // behaviour that injects timing-dependent input or server work.
  bool input_independent() const;
  // Requests of connection i (h2load's split: the first N % C connections get one more).
  std::uint32_t requests_of(std::uint32_t connection) const;
};

// What a scenario file (and the scenario inside a replay token) may be: canonical JSON is about
// 1.5 KB and three levels deep, so these leave room for hand-written files and nothing else.
inline constexpr std::size_t kMaxScenarioBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMaxScenarioDepth = 8;

struct ScenarioParse {
  std::optional<Scenario> scenario;
  std::string error;  // one line
};
// Missing keys keep their defaults; `base` supplies them. Strict and bounded (sim/json_reader.h):
// at most kMaxScenarioBytes and kMaxScenarioDepth, no duplicate key, every number exact.
ScenarioParse parse_scenario(std::string_view json_text, const Scenario& base = {});

// One field of the scenario as the table of describe() in scenario.cpp declares it: the only
// place a bound is written. The CLI's flags, its help and the README's tables read it.
struct ScenarioField {
  std::string path;     // "workload.requests"
  std::string allowed;  // "1..10000000", "4K..16M bytes", "lockstep|closed-loop"
  std::string value;    // the field's value in the scenario asked about, as a flag spells it
};
std::vector<ScenarioField> scenario_fields(const Scenario& s = {});
// Sets the field at `path` from text as a user types it on the command line (a whole decimal
// number, a byte size, one value for both ends of a range, a choice name, a strategy spec).
// Returns empty on success, else what is allowed (without the value; the caller names it).
// An unknown path is a programming error: it throws std::logic_error.
std::string set_field(Scenario& s, std::string_view path, std::string_view text);

// A cross-field rule the scenario breaks, with what each field involved may be while the others
// keep their values (so a caller can name the one its user set, e.g. --body).
struct ScenarioConflict {
  std::string message;  // one line in terms of scenario keys
  std::string rule;     // the relation in words
  struct Field {
    std::string path;
    std::string allowed;  // empty: no value of this field alone satisfies the rule
  };
  std::vector<Field> fields;
};
std::optional<ScenarioConflict> conflict(const Scenario& s);
// conflict(s)->message, or empty when the scenario is valid (also applied by parse_scenario).
std::string validate(const Scenario& s);
// Every key in a fixed order; `indent` < 0 gives the compact one-line form.
std::string canonical_json(const Scenario& s, int indent = 2);

}  // namespace emitlab::sim
