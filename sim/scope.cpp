#include "sim/scope.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

#include "sim/json_reader.h"

namespace emitlab::sim {
namespace {

struct ScopeText {
  const char* name;
  const char* hazard;
  std::uint32_t bound;
  const char* scenario;  // JSON over the default scenario
};

// Small on purpose: every named scope is exhausted by every strategy inside CI's time
// (tests/test_explore.cpp), so bodies are a record or three and requests few.
constexpr ScopeText kScopes[] = {
    {"three-byte",
     "the baseline: 3-byte bodies, every completion and read order of a few streams, PINGs", 2,
     R"({"workload": {"requests": 3, "concurrency": 3, "body": 3}, "peer": {"ping_permille": 100},
         "link": {"completions": "mixed", "read_chunk": [1024, 65536]}})"},
    {"inflight-encrypt", "a write in flight when a pass wants to encrypt (59a4da2, bad record mac)",
     1,
     R"({"workload": {"requests": 2, "concurrency": 2, "body": 20000},
         "link": {"completions": "async", "read_chunk": [4096, 65536]}})"},
    {"one-record-park", "WANT_WRITE mid-pass with a one-record cipher ring and a parked tail (#29)",
     1,
     R"({"workload": {"requests": 1, "concurrency": 1, "body": 40000},
         "rings": {"cipher_out_records": 1},
         "link": {"completions": "async", "read_chunk": [4096, 65536]}})"},
    {"drain-slice-large-open",
     "drain's slice parked when a large stream opens (hybrid, #224); K=0: pass 45 meets it", 1,
     R"({"workload": {"requests": 10, "concurrency": 2, "body": [50000, 70000],
         "pacing": "closed-loop"},
         "link": {"completions": "async", "read_chunk": [4096, 65536]}})"},
    {"nocopy-deferred-last-large",
     "a NO_COPY frame deferred at the cap when the last large stream closes (hybrid)", 1,
     R"({"seed": 22, "workload": {"requests": 10, "concurrency": 10, "body": [900, 20000]},
         "link": {"completions": "async", "read_chunk": [4096, 65536]}})"},
    {"close-inside-pass", "on_stream_close inside a pass, with gather and with A3 (body lifetime)",
     1,
     R"({"workload": {"requests": 3, "concurrency": 3, "body": 9000},
         "link": {"completions": "mixed", "read_chunk": [4096, 65536]}})"},
    {"window-reopen", "a flow-control window exhausted and reopened (a057120)", 1,
     R"({"workload": {"requests": 1, "concurrency": 1, "body": 40000},
         "peer": {"window": "stingy", "initial_window": 16384, "connection_window": 65535,
                  "stingy_increment": 16384, "window_delay_ns": [1000, 20000]},
         "link": {"completions": "async", "read_chunk": [4096, 65536]}})"},
    {"reset-between-passes", "a peer's RST_STREAM arriving between passes (af62612)", 1,
     R"({"workload": {"requests": 2, "concurrency": 2, "body": 30000},
         "peer": {"reset_permille": 100},
         "link": {"completions": "async", "read_chunk": [4096, 65536]}})"},
    {"shutdown-inflight",
     "shutdown (GOAWAY) and close_notify while bytes are queued or a write is in flight", 1,
     R"({"workload": {"requests": 4, "concurrency": 2, "body": [30000, 60000],
         "pacing": "closed-loop"}, "peer": {"goaway_permille": 300},
         "link": {"completions": "async", "read_chunk": [4096, 65536]}})"},
    {"shared-body", "an immutable shared body served to several streams (a7b3102)", 1,
     R"({"workload": {"requests": 3, "concurrency": 3, "body": 20000,
                      "kinds": {"buffered": 1, "shared": 2}},
         "link": {"completions": "async", "read_chunk": [4096, 65536]}})"},
};

std::vector<Scope> build_named() {
  std::vector<Scope> out;
  for (const ScopeText& t : kScopes) {
    auto parsed = parse_scenario(t.scenario, scope_base());
    if (!parsed.scenario) throw std::logic_error(std::string(t.name) + ": " + parsed.error);
    out.push_back({t.name, t.hazard, *parsed.scenario, t.bound, {}});
  }
  return out;
}

constexpr TeethScope kTeeth[] = {
    {Mutant::InflightGateOff, "inflight-encrypt", "drain", 1},
    {Mutant::WantWriteFatal, "one-record-park", "gather@cap=64K", 1},
    {Mutant::SecondDrainCursor, "one-record-park", "drain", 1},
    {Mutant::HybridNoDrainPin, "drain-slice-large-open", "hybrid@threshold=64K", 0},
    {Mutant::HybridGatherToDrain, "nocopy-deferred-last-large", "hybrid", 1},
    {Mutant::ReleaseAtCloseNoDefer, "close-inside-pass", "gather+A3", 1},
    {Mutant::NoWindowRedrive, "window-reopen", "gather", 1},
    {Mutant::EarlyCloseNotify, "shutdown-inflight", "drain", 1},
    {Mutant::RefcountOnImmutable, "shared-body", "gather", 1},
    {Mutant::PingAnsweredTwice, "three-byte", "drain", 1},
    {Mutant::EmitInsideCallback, "window-reopen", "drain", 1},
};

}  // namespace

Scenario scope_base() {
  Scenario s;
  s.tls.handshake = TlsHandshake::Psk;
  return s;
}

const TeethScope& teeth_scope(Mutant m) {
  for (const TeethScope& t : kTeeth) {
    if (t.mutant == m) return t;
  }
  throw std::logic_error("no teeth scope for mutant " + std::string(to_string(m)));
}

const std::vector<Scope>& named_scopes() {
  static const std::vector<Scope> scopes = build_named();
  return scopes;
}

const Scope* find_scope(std::string_view name) {
  for (const Scope& s : named_scopes()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<Decision> decision_named(std::string_view name) {
  for (std::size_t i = 0; i < kDecisions; ++i) {
    if (to_string(static_cast<Decision>(i)) == name) return static_cast<Decision>(i);
  }
  return std::nullopt;
}

ScopeParse parse_scope(std::string_view json_text, const std::string& origin) {
  using Json = nlohmann::json;
  auto fail = [&](const std::string& why) { return ScopeParse{std::nullopt, origin + ": " + why}; };
  JsonRead read = read_json(json_text, {kMaxScopeBytes, kMaxScopeDepth});
  if (!read.json) return fail(read.error);
  const Json& root = *read.json;
  if (!root.is_object()) return fail("expected a JSON object");
  Scope scope;
  scope.name = origin;
  for (const auto& [key, value] : root.items()) {
    if (key == "name" || key == "hazard") {
      if (!value.is_string()) return fail("key '" + key + "' must be a string");
      (key == "name" ? scope.name : scope.hazard) = value.get<std::string>();
    } else if (key == "bound") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() > 8) {
        return fail("bad bound " + echo_json(value) + ": expected 0..8");
      }
      scope.bound = value.get<std::uint32_t>();
    } else if (key == "hold") {
      if (!value.is_array()) return fail("key 'hold' must be an array of decision labels");
      for (const auto& label : value) {
        const auto d = label.is_string() ? decision_named(label.get<std::string>()) : std::nullopt;
        if (!d) return fail("bad hold entry " + echo_json(label) + ": expected a decision label");
        scope.hold.push_back(*d);
      }
    } else if (key == "scenario") {
      if (!value.is_object()) return fail("key 'scenario' must be an object");
      auto parsed = parse_scenario(value.dump(), scope_base());
      if (!parsed.scenario) return fail(parsed.error);
      scope.scenario = *parsed.scenario;
    } else {
      return fail("unknown key '" + key + "'; allowed: name, hazard, bound, hold, scenario");
    }
  }
  if (!root.contains("scenario")) return fail("missing key 'scenario'");
  return {scope, {}};
}

}  // namespace emitlab::sim
